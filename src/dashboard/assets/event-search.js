import { callApi, refusal } from './api.js';
import { $, cell, el, fillTable, idCode, setText } from './dom.js';
import { dateTime } from './format.js';
import { opensEvents } from './event-drawer.js';

const FILTERS = ['types', 'sources', 'subjects', 'after', 'before'];

/** The pages seen so far: each one's `after` (null for the first), so Previous can go back. */
let pages = [];
let next = null;

function query(after) {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = $(`search-${name}`).value.trim();
    if (value && name !== 'after') params.set(name, value);
  }
  const start = after ?? $('search-after').value.trim();
  if (start) params.set('after', start);
  params.set('limit', $('search-limit').value);
  return params;
}

function row(event) {
  const tr = el('tr', { tabIndex: 0, className: 'pick', dataset: { id: event.id } });
  const type = el('span', { className: `type ${event.type.split('.')[0]}` }, event.type);
  tr.append(cell(dateTime(event.receivedAt)), cell(type), cell(el('span', { className: 'chip' }, event.source)), cell(event.subject ?? event.customerId ?? ''), cell(idCode(event.id)));
  return tr;
}

function showProblem(text) {
  $('search-error').hidden = text === null;
  setText('search-error', text ?? '');
}

/** Reads one page: `after` is a cursor from the page before, or null for the form's own. */
async function load(after) {
  const result = await callApi('GET', `/events?${query(after)}`);
  if (!result.ok) return showProblem(refusal(result));
  showProblem(null);
  const { events, nextCursor, truncated } = result.body;
  fillTable('search-results', events.map(row), 5, 'no event matches');
  next = nextCursor;
  $('search-next').disabled = next === null;
  $('search-prev').disabled = pages.length < 2;
  const trimmed = truncated ? ' · some events after your start were trimmed by retention' : '';
  setText('search-page', `page ${pages.length} · ${events.length} event${events.length === 1 ? '' : 's'}${next === null ? ' · end of the log' : ''}${trimmed}`);
}

/** Wires the Events view: search, paging, and a row opens the event's drawer. */
export function initEventSearch() {
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    pages = [null];
    void load(null);
  });
  $('search-next').addEventListener('click', () => {
    pages.push(next);
    void load(next);
  });
  $('search-prev').addEventListener('click', () => {
    pages.pop();
    void load(pages.at(-1));
  });
  opensEvents($('search-results'));
}
