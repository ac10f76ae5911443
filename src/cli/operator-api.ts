/**
 * The operator API as the CLI reaches it: plain `fetch` to a running relay, the bearer token
 * as every route takes it. A refusal becomes one sentence of the relay's own words.
 */

/** Where the relay is and how to prove who we are. */
export interface RelayAccess {
  /** The relay's base URL, without `/mcp`. */
  base: string;
  token: string | undefined;
}

/** An answer the command cannot use (a refusal, an unreachable relay): reported as one line, exit 1. */
export class ApiFailure extends Error {}

/** A successful answer: its text as the relay sent it, and that text parsed. */
export interface ApiAnswer<T> {
  text: string;
  body: T;
}

/** The base URL from `--url` as people give it: with or without a trailing `/` or `/mcp`. */
export function relayBase(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/mcp$/, '');
}

/** `group` as one path segment: `alice/v1` → `alice%2Fv1`. */
export function segment(group: string): string {
  return encodeURIComponent(group);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** The sentence for an answer that is not 2xx: the relay's `{error, message}`, or what it sent. */
function refusal(status: number, text: string): string {
  let reason: { error?: unknown; message?: unknown } | undefined;
  try {
    reason = JSON.parse(text) as typeof reason;
  } catch {
    reason = undefined;
  }
  if (typeof reason?.error !== 'string' || typeof reason.message !== 'string') return `the relay answered ${status}: ${oneLine(text) || '(no body)'}`;
  const sentence = `${oneLine(reason.message)} (${status} ${reason.error})`;
  return status === 403 ? `needs an admin: ${sentence}` : sentence;
}

/**
 * One request to the operator API; resolves with a 2xx answer, rejects with {@link ApiFailure}
 * for anything else (its one line says why).
 */
export async function apiRequest<T>(access: RelayAccess, method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (access.token) headers.authorization = `Bearer ${access.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${access.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }).catch((error: unknown) => {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new ApiFailure(`cannot reach ${new URL(access.base).origin}: ${cause?.code ?? cause?.message ?? String(error)}`);
  });
  const text = await res.text();
  if (!res.ok) throw new ApiFailure(refusal(res.status, text));
  try {
    return { text, body: JSON.parse(text) as T };
  } catch {
    throw new ApiFailure(`the relay answered ${res.status} with something other than JSON: ${oneLine(text).slice(0, 100)}`);
  }
}
