import { callApi, refusal } from './api.js';
import { $, cell, el, fillTable, setText } from './dom.js';
import { dateTime } from './format.js';

const FACTS = [
  ['type', 'type'],
  ['source', 'source'],
  ['subject', 'subject'],
  ['customer', 'customerId'],
  ['occurred', 'occurredAt'],
  ['received', 'receivedAt'],
  ['source event id', 'sourceEventId'],
];

let shown = null;

/** Where the event stands in one consumer group, and since when. */
function groupRow(delivery) {
  const when = delivery.state === 'dead' ? `since ${dateTime(delivery.deadLetteredAt)}` : delivery.state === 'leased' ? `lease until ${dateTime(delivery.leaseExpiresAt)}` : '';
  return [cell(delivery.group), cell(el('span', { className: `state ${delivery.state}` }, delivery.state)), cell(delivery.deliveryCount === null ? '–' : String(delivery.deliveryCount), 'num'), cell(when)];
}

function webhookRow(hook) {
  const name = el('span', { title: hook.url }, `${hook.name} → ${hook.url}`);
  const attempts = hook.state === 'in_flight' ? `${hook.attempts}${hook.nextAttemptAt ? `, next ${dateTime(hook.nextAttemptAt)}` : ''}` : '';
  return [cell(name), cell(el('span', { className: `state ${hook.state}` }, hook.state.replace('_', ' '))), cell(attempts)];
}

/** Fills the drawer from one `GET /events/:id` answer. */
function render({ event, deliveries, webhooks }) {
  setText('drawer-title', event.id);
  $('drawer-facts').replaceChildren(
    ...FACTS.filter(([, key]) => event[key] !== undefined).flatMap(([label, key]) => [el('dt', {}, label), el('dd', {}, key.endsWith('At') ? `${dateTime(event[key])} (${event[key]})` : event[key])]),
  );
  setText('drawer-payload', JSON.stringify(event.data, null, 2));
  fillTable('drawer-groups', deliveries.map(groupRow), 4, 'no consumer group you may see');
  fillTable('drawer-webhooks', webhooks.map(webhookRow), 3, 'none of your webhook subscriptions matches it');
}

/** Opens the drawer on event `id`: its payload, its state in each consumer group and webhook subscription. */
export async function openEvent(id) {
  shown = id;
  const drawer = $('drawer');
  drawer.hidden = false;
  setText('drawer-title', id);
  $('drawer-body').hidden = true;
  $('drawer-error').hidden = true;
  const result = await callApi('GET', `/events/${encodeURIComponent(id)}`);
  if (shown !== id) return;
  if (!result.ok) {
    $('drawer-error').hidden = false;
    setText('drawer-error', refusal(result));
    return;
  }
  render(result.body);
  $('drawer-body').hidden = false;
  $('drawer-close').focus();
}

export function closeEvent() {
  shown = null;
  $('drawer').hidden = true;
}

/** Rows of `container` carrying `data-id` open that event, by click or Enter. */
export function opensEvents(container) {
  const open = (target) => {
    const row = target.closest('[data-id]');
    if (row && container.contains(row)) void openEvent(row.dataset.id);
  };
  container.addEventListener('click', (e) => open(e.target));
  container.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') open(e.target);
  });
}

$('drawer-close').addEventListener('click', closeEvent);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && !$('drawer').hidden) closeEvent();
});
