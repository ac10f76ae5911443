import { askForKey, authHeaders } from './api-key.js';

/**
 * One operator API request with the page's key. A 401 asks for a key (one prompt for every
 * caller) and tries again; any other refusal comes back as the API's own sentence, so the
 * page can show it as it is. Never throws: an unreachable relay is status 0.
 * Resolves `{ ok: true, status, body }` or `{ ok: false, status, message }`.
 */
export async function callApi(method, path, body) {
  for (;;) {
    const headers = { ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch {
      return { ok: false, status: 0, message: 'the relay cannot be reached' };
    }
    if (res.status === 401) {
      await askForKey();
      continue;
    }
    const answer = await res.json().catch(() => null);
    if (res.ok) return { ok: true, status: res.status, body: answer };
    return { ok: false, status: res.status, message: answer?.message ?? `HTTP ${res.status}` };
  }
}

/** A refusal as the page says it: the status, then the API's sentence. */
export function refusal(result) {
  return result.status === 0 ? result.message : `Refused (${result.status}): ${result.message}`;
}

/** A group name as a path segment (`alice/v1` → `alice%2Fv1`). */
export const groupPath = (group) => `/groups/${encodeURIComponent(group)}`;
