import { describe, expect, it } from 'vitest';
import { zendeskProvider } from '../../../src/ingest/providers/zendesk.js';
import { NOW, loadFixture, request } from '../../support/webhook-oracles.js';
import { describeVerifier } from './verifier-suite.js';

const secret = 'dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==';
const created = loadFixture('ticket_created');
const v6 = {
  ...created.headers,
  'x-zendesk-webhook-signature-timestamp': '2023-11-14T22:13:20Z',
  'x-zendesk-webhook-signature': 'G0jwzUgQFwNhodz7gjUGmpwnPYm4GB8l3+eeUmN5Ouc=',
};
const options = (secrets: string[], nowMs = NOW) => ({ secrets, nowMs, toleranceS: 300 });

describeVerifier({
  kind: 'zendesk',
  name: 'Zendesk',
  secret,
  previousSecret: 'cHJldmlvdXNfc2VjcmV0X2Zvcl90ZXN0aW5n',
  body: created.rawBody,
  headers: created.headers,
  signatureHeader: 'x-zendesk-webhook-signature',
  withMac: (mac) => mac,
  timestamped: true,
});

describe('Zendesk verification specifics', () => {
  it('accepts the reference vector V6', () => {
    expect(zendeskProvider.verify(request(created.rawBody, v6), options([secret]))).toEqual({ ok: true });
  });

  it.each([
    ['keyed with the base64-decoded secret', 'RnofurHgNLt3+o9PcG0XugJkGcc5HTOGYIU+E2xh/D4='],
    ['over "<timestamp>.<body>"', 'NICsinRT9tdG+SjEdp85hV2sslw9M0IGSVIu6NOcm2M='],
  ])('rejects a signature %s', (_label, signature) => {
    const headers = { ...v6, 'x-zendesk-webhook-signature': signature };
    expect(zendeskProvider.verify(request(created.rawBody, headers), options([secret]))).toMatchObject({ reason: 'signature_mismatch' });
  });

  it('does not accept the body-then-timestamp order of the old docs sample', () => {
    const headers = {
      'x-zendesk-webhook-signature-timestamp': '2021-07-25T10:00:00Z',
      'x-zendesk-webhook-signature': 'tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw=',
    };
    const result = zendeskProvider.verify(request('{"say": "hello"}', headers), options(['HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA='], Date.parse('2021-07-25T10:00:00Z')));
    expect(result).toMatchObject({ reason: 'signature_mismatch' });
  });

  it('refuses a delivery without the timestamp header', () => {
    const { 'x-zendesk-webhook-signature-timestamp': _dropped, ...headers } = v6;
    expect(zendeskProvider.verify(request(created.rawBody, headers), options([secret]))).toMatchObject({ status: 400, reason: 'missing_timestamp' });
  });

  it.each(['1700000000', 'yesterday', '2023-11-14 22:13:20', '2023-11-14T22:13:20'])('refuses the timestamp %j as malformed', (timestamp) => {
    const headers = { ...v6, 'x-zendesk-webhook-signature-timestamp': timestamp };
    expect(zendeskProvider.verify(request(created.rawBody, headers), options([secret]))).toMatchObject({ reason: 'malformed_timestamp' });
  });
});

describe('Zendesk normalization', () => {
  const invocation = { 'x-zendesk-webhook-invocation-id': 'inv-1' };
  const normalize = (body: unknown, headers: Record<string, string> = invocation) =>
    zendeskProvider.normalize('zendesk', body, request('', headers));
  const subscription = (name: string, event: unknown, detail: Record<string, unknown> = {}) => ({
    type: `zen:event-type:${name}`,
    id: 'ev-1',
    time: '2025-01-08T11:30:15Z',
    subject: 'zen:ticket:5158',
    detail: { id: '5158', ...detail },
    event,
  });

  it('maps an event subscription ticket.created, deduplicated on the body id', () => {
    expect(normalize(created.body, created.headers)).toEqual({
      ok: true,
      event: expect.objectContaining({
        type: 'ticket.created',
        sourceType: 'zen:event-type:ticket.created',
        sourceEventId: '5f9e7b3c-0c51-4f1e-9d7a-2b8c4e6f1a00',
        subject: 'ticket:35436',
        customerId: '20978392',
        occurredAt: '2023-11-14T22:13:20.000Z',
        data: {
          ticketId: '35436',
          title: 'Order #1001 never arrived',
          status: 'new',
          priority: 'high',
          requesterId: '20978392',
          assigneeId: null,
          groupId: '98738',
          tags: ['shipping', 'vip'],
          change: null,
          escalationReason: null,
          previousPriority: null,
        },
      }),
    });
  });

  it('maps a priority raised to urgent to ticket.escalated', () => {
    const escalated = loadFixture('ticket_escalated');
    expect(normalize(escalated.body, escalated.headers)).toMatchObject({
      event: {
        type: 'ticket.escalated',
        subject: 'ticket:5158',
        occurredAt: '2025-01-08T11:30:15.456Z',
        data: { priority: 'urgent', previousPriority: 'high', escalationReason: 'priority_raised', change: 'priority_changed' },
      },
    });
  });

  it.each([
    ['NORMAL', 'HIGH', 'ticket.escalated'],
    ['LOW', 'URGENT', 'ticket.escalated'],
    ['URGENT', 'HIGH', 'ticket.updated'],
    ['LOW', 'NORMAL', 'ticket.updated'],
  ])('maps a priority change from %s to %s to %s', (previous, current, type) => {
    expect(normalize(subscription('ticket.priority_changed', { previous, current }))).toMatchObject({ event: { type } });
  });

  it('maps a status changed to solved to ticket.solved', () => {
    expect(normalize(subscription('ticket.status_changed', { previous: 'OPEN', current: 'SOLVED' }))).toMatchObject({
      event: { type: 'ticket.solved', data: { change: 'status_changed' } },
    });
  });

  it.each(['ticket.status_changed', 'ticket.comment_added', 'ticket.tags_changed'])('maps %s to ticket.updated', (name) => {
    expect(normalize(subscription(name, { current: 'OPEN' }))).toMatchObject({ event: { type: 'ticket.updated', subject: 'ticket:5158' } });
  });

  it('keeps a merge unmapped, under its full Zendesk type', () => {
    expect(normalize(subscription('ticket.merged', {}))).toMatchObject({
      event: { type: 'zendesk.zen:event-type:ticket.merged', data: {} },
    });
  });

  it('keeps a user event unmapped, about the user', () => {
    expect(normalize({ type: 'zen:event-type:user.created', id: 'ev-2', subject: 'zen:user:42' })).toMatchObject({
      event: { type: 'zendesk.zen:event-type:user.created', subject: 'user:42' },
    });
  });

  it('refuses an event subscription without an id, even when an invocation id is present', () => {
    expect(normalize({ type: 'zen:event-type:ticket.created', subject: 'zen:ticket:1' })).toMatchObject({ reason: 'missing_event_id' });
  });

  describe('trigger payloads', () => {
    const trigger = {
      type: 'ticket.updated',
      id: '5158',
      ticket_id: '5158',
      title: 'Still waiting',
      status: 'open',
      priority: 'normal',
      requester_id: '20978392',
      assignee_id: '',
      tags: 'vip late_reply',
      escalation_reason: 'wait_time',
      updated_at: '2025-01-08T11:30:15Z',
    };

    it('maps a trigger stating an escalation reason to ticket.escalated, deduplicated on the invocation id', () => {
      expect(normalize(trigger)).toMatchObject({
        ok: true,
        event: {
          type: 'ticket.escalated',
          sourceType: 'ticket.updated',
          sourceEventId: 'inv-1',
          subject: 'ticket:5158',
          customerId: '20978392',
          occurredAt: '2025-01-08T11:30:15.000Z',
          data: { ticketId: '5158', title: 'Still waiting', assigneeId: null, tags: ['vip', 'late_reply'], escalationReason: 'wait_time' },
        },
      });
    });

    it('takes the type from `kind` when `type` is absent', () => {
      expect(normalize({ kind: 'ticket.solved', ticket_id: '7' })).toMatchObject({ event: { type: 'ticket.solved', sourceType: 'ticket.solved' } });
    });

    it('keeps a trigger with a type outside the catalogue as zendesk.<type>', () => {
      expect(normalize({ type: 'sla.warning', ticket_id: '7' })).toMatchObject({ event: { type: 'zendesk.sla.warning', data: {} } });
    });

    it('refuses a trigger delivery without an invocation id', () => {
      expect(normalize(trigger, {})).toMatchObject({ reason: 'missing_event_id' });
    });

    it('refuses a trigger payload that names no type', () => {
      expect(normalize({ ticket_id: '7' })).toMatchObject({ reason: 'missing_event_type' });
    });
  });
});
