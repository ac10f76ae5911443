import { callApi, groupPath, refusal } from './api.js';
import { initDeadLetters, showDeadLetters } from './dead-letters.js';
import { $, cell, el, fillTable, idCode, setText, showOutcome } from './dom.js';
import { count, dateTime, idTime } from './format.js';

const LOG_START = '0'.repeat(26);

let selected = null;
let lastAnswer = '';

/** An event id with when it was minted; the floor before any event is "start". */
function position(id) {
  if (id === null) return '–';
  if (id === LOG_START) return 'start';
  const when = dateTime(idTime(id));
  return el('span', {}, idCode(id, when), el('span', { className: 'sub when' }, when));
}

function row(group) {
  const name = el('button', { type: 'button', className: 'link' }, group.group);
  const tr = el('tr', { className: group.group === selected ? 'pick selected' : 'pick', dataset: { group: group.group } });
  tr.append(
    cell(name),
    cell(position(group.floor)),
    cell(count(group.pending), 'num'),
    cell(count(group.leased), 'num'),
    cell(count(group.deadLettered), group.deadLettered > 0 ? 'num dead' : 'num'),
    cell(position(group.oldestPending)),
  );
  return tr;
}

/** Reads `GET /groups` and redraws the table when the answer changed (a redraw under the pointer would eat clicks). */
export async function refreshGroups() {
  const result = await callApi('GET', '/groups');
  $('groups-error').hidden = result.ok;
  if (!result.ok) return setText('groups-error', refusal(result));
  const answer = JSON.stringify(result.body.groups);
  if (answer !== lastAnswer) {
    lastAnswer = answer;
    fillTable('group-list', result.body.groups.map(row), 6, 'no consumer groups yet');
  }
  if (selected !== null) await showDeadLetters(selected);
}

function select(group) {
  selected = group;
  lastAnswer = '';
  setText('group-name', group);
  $('group-detail').hidden = false;
  $('seek-outcome').hidden = true;
  $('dead-outcome').hidden = true;
  void refreshGroups();
}

async function seek() {
  const choice = $('seek-to').value;
  const to = choice === 'position' ? $('seek-position').value.trim() : choice;
  const group = selected;
  const result = await callApi('POST', `${groupPath(group)}/seek`, { to });
  if (!result.ok) return showOutcome('seek-outcome', refusal(result), true);
  const floor = result.body.floor === LOG_START ? 'the start' : result.body.floor;
  showOutcome('seek-outcome', `Moved ${group} to ${floor}: ${count(result.body.pending)} pending.`, false);
  await refreshGroups();
}

/** Wires the Groups view: the positions table, a group's seek control and its dead letters. */
export function initGroupsPanel() {
  $('group-list').addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-group]');
    if (tr) select(tr.dataset.group);
  });
  $('seek-to').addEventListener('change', () => {
    const input = $('seek-position');
    input.disabled = $('seek-to').value !== 'position';
    if (!input.disabled) input.focus();
  });
  $('seek-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void seek();
  });
  initDeadLetters(refreshGroups);
}
