import { callApi, groupPath, refusal } from './api.js';
import { $, cell, el, fillTable, idCode, setText, showOutcome } from './dom.js';
import { count, dateTime } from './format.js';
import { opensEvents } from './event-drawer.js';

let shown = null;
let lastAnswer = '';
let changed = async () => {};

function row(letter) {
  const { event } = letter;
  const what = el('span', { className: 'pick', tabIndex: 0, dataset: { id: event.id } }, el('span', { className: 'type' }, event.type), ' ', idCode(event.id));
  const requeue = el('button', { type: 'button', className: 'small', dataset: { requeue: event.id } }, 'Requeue');
  return [cell(what), cell(count(letter.deliveryCount), 'num'), cell(letter.lastError), cell(dateTime(letter.deadLetteredAt)), cell(requeue)];
}

/** Shows `group`'s dead letters (`GET /groups/:group/dead-letters`), redrawn only when they changed. */
export async function showDeadLetters(group) {
  if (group !== shown) lastAnswer = '';
  shown = group;
  const result = await callApi('GET', `${groupPath(group)}/dead-letters`);
  if (shown !== group) return;
  if (!result.ok) return showOutcome('dead-outcome', refusal(result), true);
  const answer = JSON.stringify(result.body.deadLetters);
  if (answer === lastAnswer) return;
  lastAnswer = answer;
  const letters = result.body.deadLetters;
  setText('dead-count', count(letters.length));
  $('requeue-all').disabled = letters.length === 0;
  fillTable('dead-letters', letters.map(row), 5, 'no dead letters');
}

/** Makes dead letters pending again: `{ids}` for one, `{all: true}` for every one. A refusal (403 for a non-admin) is shown as the API words it. */
async function requeue(selection, what) {
  const group = shown;
  const result = await callApi('POST', `${groupPath(group)}/dead-letters/requeue`, selection);
  if (!result.ok) return showOutcome('dead-outcome', refusal(result), true);
  const n = result.body.requeued.length;
  showOutcome('dead-outcome', `Requeued ${what}: ${count(n)} event${n === 1 ? ' is' : 's are'} pending again in ${group}.`, false);
  await changed();
}

/** Wires the dead-letter actions; `afterChange` redraws what a requeue moved. */
export function initDeadLetters(afterChange) {
  changed = afterChange;
  $('dead-letters').addEventListener('click', (e) => {
    const button = e.target.closest('button[data-requeue]');
    if (button) void requeue({ ids: [button.dataset.requeue] }, button.dataset.requeue);
  });
  $('requeue-all').addEventListener('click', () => void requeue({ all: true }, 'all'));
  opensEvents($('dead-letters'));
}
