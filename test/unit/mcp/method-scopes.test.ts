import { describe, expect, it } from 'vitest';
import { mcpScopes } from '../../../src/mcp/method-scopes.js';

const call = (method: string, params?: Record<string, unknown>) => ({ jsonrpc: '2.0', id: 1, method, params });

describe('the scopes a /mcp message needs of an access token', () => {
  it.each([
    ['check_pending_events', ['events:consume']],
    ['ack_event', ['events:consume']],
    ['get_customer_context', ['events:read']],
    ['no_such_tool', []],
  ])('tools/call %s: %j', (name, scopes) => {
    expect(mcpScopes(call('tools/call', { name, arguments: {} }))).toEqual(scopes);
  });

  it.each([
    ['events/poll', ['events:read']],
    ['events/stream', ['events:read']],
    ['events/subscribe', ['events:read']],
    ['events/unsubscribe', ['events:read']],
    ['events/list', []],
    ['initialize', []],
    ['server/discover', []],
    ['tools/list', []],
    ['resources/list', []],
    ['resources/templates/list', []],
  ])('%s: %j', (method, scopes) => {
    expect(mcpScopes(call(method, { name: 'cx_events' }))).toEqual(scopes);
  });

  it('asks events:consume for a consumer group resource and events:read for any other, read, subscribed or listened to', () => {
    for (const method of ['resources/read', 'resources/subscribe', 'resources/unsubscribe']) {
      expect(mcpScopes(call(method, { uri: 'events://alice/v1' }))).toEqual(['events:consume']);
      expect(mcpScopes(call(method, { uri: 'customer://cus_1/context' }))).toEqual(['events:read']);
    }
    const listen = (uris: unknown[]) => call('subscriptions/listen', { notifications: { resourceSubscriptions: uris } });
    expect(mcpScopes(listen(['events://alice', 'customer://cus_1/context', 'events://alice/x']))).toEqual(['events:consume', 'events:read']);
    expect(mcpScopes(listen([]))).toEqual([]);
  });

  it('needs nothing for notifications, responses, GET bodies and what is not a message; the union of a batch', () => {
    expect(mcpScopes({ jsonrpc: '2.0', method: 'notifications/initialized' })).toEqual([]);
    expect(mcpScopes({ jsonrpc: '2.0', id: 1, result: {} })).toEqual([]);
    expect(mcpScopes(undefined)).toEqual([]);
    expect(mcpScopes('tools/call')).toEqual([]);
    expect(mcpScopes([call('events/poll'), call('tools/call', { name: 'ack_event' }), call('events/stream')])).toEqual(['events:read', 'events:consume']);
  });
});
