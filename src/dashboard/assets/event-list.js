import { count, timeOfDay } from './format.js';

const CAP = 100;

/**
 * The live list: newest on top, at most {@link CAP} rows, with counts per source this session.
 * Rows are added once per animation frame, so a burst (a replay after a reconnect) costs at
 * most {@link CAP} rows however many events it brings.
 */
export class EventList {
  #total = 0;
  #bySource = new Map();
  #pending = [];
  #scheduled = false;

  constructor() {
    this.list = document.getElementById('events');
    this.empty = document.getElementById('events-empty');
    this.count = document.getElementById('live-count');
    this.sources = document.getElementById('live-sources');
  }

  add(event) {
    this.#total++;
    this.#bySource.set(event.source, (this.#bySource.get(event.source) ?? 0) + 1);
    this.count.textContent = count(this.#total);
    this.sources.textContent = [...this.#bySource]
      .sort((a, b) => b[1] - a[1])
      .map(([source, n]) => `${source} ${count(n)}`)
      .join(' · ');
    this.#pending.push(event);
    if (this.#pending.length > CAP) this.#pending.splice(0, this.#pending.length - CAP);
    if (this.#scheduled) return;
    this.#scheduled = true;
    requestAnimationFrame(() => this.#flush());
  }

  #flush() {
    this.#scheduled = false;
    const rows = this.#pending.splice(0).reverse().map(row);
    this.empty.hidden = true;
    this.list.prepend(...rows);
    while (this.list.childElementCount > CAP) this.list.lastElementChild.remove();
  }

  /** The relay could not replay from where the page was: say so in the list itself. */
  markGap() {
    const item = document.createElement('li');
    item.className = 'gap';
    item.textContent = 'Some events were trimmed by retention before they could be shown.';
    this.list.prepend(item);
  }
}

/** Built with textContent only: every field comes from a webhook and is never parsed as HTML. */
function row(event) {
  const item = document.createElement('li');
  item.className = 'fresh pick';
  item.dataset.id = event.id;
  item.tabIndex = 0;
  const time = document.createElement('time');
  time.dateTime = event.receivedAt;
  time.textContent = timeOfDay(event.receivedAt);
  const type = document.createElement('span');
  type.className = `type ${event.type === 'relay.alert' ? 'alert' : event.type.split('.')[0]}`;
  type.textContent = event.type;
  const where = document.createElement('span');
  where.className = 'where';
  const source = document.createElement('span');
  source.className = 'chip';
  source.textContent = event.source;
  where.append(source, event.subject ?? event.customerId ?? '');
  item.append(time, type, where);
  return item;
}
