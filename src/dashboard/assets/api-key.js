// Browsers' EventSource cannot send an Authorization header, so the page reads /feed with
// fetch and sends the key itself. The key is typed once and kept in sessionStorage: it
// lives as long as the tab, is never written into a URL, and never leaves this origin.
const STORAGE_KEY = 'mcp-event-relay.api-key';

export function authHeaders() {
  const key = sessionStorage.getItem(STORAGE_KEY);
  return key ? { authorization: `Bearer ${key}` } : {};
}

let asking = false;
const waiting = new Set();

/** Resolves once the operator has entered a (new) key; every 401 shares one prompt. */
export function askForKey() {
  const form = document.getElementById('key-form');
  const input = document.getElementById('api-key');
  if (!asking) {
    asking = true;
    form.hidden = false;
    input.focus();
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      sessionStorage.setItem(STORAGE_KEY, key);
      input.value = '';
      form.hidden = true;
      asking = false;
      for (const resolve of [...waiting]) resolve();
      waiting.clear();
    }, { once: true });
  }
  return new Promise((resolve) => waiting.add(resolve));
}
