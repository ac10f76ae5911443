// Building the page's DOM: text only (textContent, never innerHTML), since every field an
// event carries came from a webhook.

export const $ = (id) => document.getElementById(id);

export function setText(id, text) {
  $(id).textContent = text;
}

/** `tag` with `props` (className, title, dataset, …) and children (nodes or strings). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(node, rest);
  Object.assign(node.dataset, dataset ?? {});
  node.append(...children);
  return node;
}

export function cell(content, className) {
  return el('td', className ? { className } : {}, content);
}

/** The rows of table body `id`, or one `emptyText` row spanning its `columns`. Rows are arrays of cells, or ready `<tr>`s. */
export function fillTable(id, rows, columns, emptyText) {
  const body = $(id);
  if (rows.length === 0) {
    const td = cell(emptyText, 'empty');
    td.colSpan = columns;
    body.replaceChildren(el('tr', {}, td));
    return;
  }
  body.replaceChildren(...rows.map((cells) => (Array.isArray(cells) ? el('tr', {}, ...cells) : cells)));
}

/** An event id as the page shows it: monospace, the time it was minted as its tooltip. */
export function idCode(id, time) {
  return el('code', { className: 'id', title: time ?? '' }, id);
}

/** A line under a form saying how an action went: plainly, in red when it failed. */
export function showOutcome(id, text, failed) {
  const line = $(id);
  line.hidden = false;
  line.classList.toggle('problem', failed);
  line.textContent = text;
}
