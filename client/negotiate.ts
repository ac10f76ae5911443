import type { Client } from '@modelcontextprotocol/client';
import { customRequest, isUnsupported, serverHasEvents } from './connection.js';
import type { DeliveryMode } from './options.js';

/**
 * `auto`: push when the server advertises the Events capability; otherwise `events/poll`
 * if a probe poll is answered (a server that serves the methods without advertising them);
 * otherwise the polling tools, which every relay has.
 */
export async function negotiateMode(client: Client, signal: AbortSignal): Promise<DeliveryMode> {
  if (serverHasEvents(client)) return 'push';
  try {
    await customRequest(client, 'events/poll', { name: 'cx_events', cursor: null, maxEvents: 1 }, { signal, timeout: 30_000 });
    return 'poll';
  } catch (error) {
    if (isUnsupported(error)) return 'tools';
    throw error;
  }
}
