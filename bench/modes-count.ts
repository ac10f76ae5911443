/**
 * A counting `fetch` for the `modes` benchmark, handed to the client through its `fetch`
 * option: it counts HTTP requests, and separately the JSON-RPC tool calls in their bodies
 * (`tools/call`, by tool name). It also recognises *empty polls* — a `check_pending_events`
 * or a long `events/poll` (`timeoutMs` > 0) answered with no events — and keeps how long
 * each took beyond the time the server was asked to wait, so the idle cost of a polling
 * mode can be computed for a real day.
 */

export interface Traffic {
  http: number;
  toolCalls: number;
  /** Requests by JSON-RPC method (`tools/call:<name>` for tools), `GET`/`DELETE` for bodiless ones. */
  byMethod: Map<string, number>;
  /** Empty polls (see above) and the tool calls among them. */
  emptyPolls: number;
  emptyToolCalls: number;
  /** Per empty poll: its duration minus the `timeoutMs` it asked the server to wait, ms. */
  emptyOverheadMs: number[];
  /** Polls cut off by unsubscribe before their answer was read (the one in flight at the end). */
  abortedPolls: number;
  abortedToolCalls: number;
}

export function newTraffic(): Traffic {
  return { http: 0, toolCalls: 0, byMethod: new Map(), emptyPolls: 0, emptyToolCalls: 0, emptyOverheadMs: [], abortedPolls: 0, abortedToolCalls: 0 };
}

interface RpcMessage {
  method?: unknown;
  params?: { name?: unknown; timeoutMs?: unknown };
}

const EMPTY_EVENTS = /"events":\[\]/;

export function countingFetch(traffic: Traffic, inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const started = performance.now();
    traffic.http++;
    const messages: RpcMessage[] = [];
    if (typeof init?.body === 'string') {
      try {
        const parsed = JSON.parse(init.body) as RpcMessage | RpcMessage[];
        messages.push(...(Array.isArray(parsed) ? parsed : [parsed]));
      } catch {
        // Not JSON-RPC: counted as a request only.
      }
    }
    const labels = messages.length === 0 ? [init?.method ?? 'GET'] : messages.map(label);
    for (const name of labels) traffic.byMethod.set(name, (traffic.byMethod.get(name) ?? 0) + 1);
    const toolCalls = messages.filter((m) => m.method === 'tools/call').length;
    traffic.toolCalls += toolCalls;

    const only = messages.length === 1 ? messages[0] : undefined;
    const waitMs = typeof only?.params?.timeoutMs === 'number' ? only.params.timeoutMs : 0;
    const poll =
      only !== undefined &&
      ((only.method === 'tools/call' && only.params?.name === 'check_pending_events') || (only.method === 'events/poll' && waitMs > 0));
    const aborted = () => {
      if (!poll) return;
      traffic.abortedPolls++;
      traffic.abortedToolCalls += toolCalls;
    };
    let response: Response;
    try {
      response = await inner(input, init);
    } catch (error) {
      aborted();
      throw error;
    }
    if (poll && response.ok) {
      // A copy of the body, read to its end: the SDK reads the original as it always does.
      void response
        .clone()
        .text()
        .then((text) => {
          if (!EMPTY_EVENTS.test(text)) return;
          traffic.emptyPolls++;
          traffic.emptyToolCalls += toolCalls;
          traffic.emptyOverheadMs.push(performance.now() - started - waitMs);
        }, aborted);
    }
    return response;
  };
}

function label(message: RpcMessage): string {
  if (typeof message.method !== 'string') return '(response)';
  if (message.method === 'tools/call') return `tools/call:${String(message.params?.name)}`;
  return message.method;
}
