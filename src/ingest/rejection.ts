/**
 * Why a delivery was refused. These codes are the whole story a sender (and our logs) get:
 * messages name the failed check, never a header value, a secret or body content.
 */
export type RejectReason =
  | 'missing_signature'
  | 'malformed_signature'
  | 'signature_mismatch'
  | 'missing_timestamp'
  | 'malformed_timestamp'
  | 'timestamp_out_of_tolerance'
  | 'missing_event_id'
  | 'invalid_event_id'
  | 'missing_event_type'
  | 'invalid_event_type'
  | 'invalid_json'
  | 'too_deep'
  | 'unknown_envelope'
  | 'malformed_envelope';

/** A refused delivery, shaped for the HTTP route to answer with as-is. */
export interface Rejection {
  ok: false;
  status: 400 | 401;
  reason: RejectReason;
  message: string;
}

/*
 * 400 = not a well-formed delivery (a signature or timestamp header missing or garbled,
 * the body not JSON, no event id, an envelope the scheme does not have or one missing its
 * fields); 401 = well-formed but not authentic (no signature matches) or not fresh (signed
 * timestamp outside the tolerance). Providers retry both alike, so the split exists for
 * operators reading logs and metrics.
 */
const statusOf: Readonly<Record<RejectReason, 400 | 401>> = {
  missing_signature: 400,
  malformed_signature: 400,
  signature_mismatch: 401,
  missing_timestamp: 400,
  malformed_timestamp: 400,
  timestamp_out_of_tolerance: 401,
  missing_event_id: 400,
  invalid_event_id: 400,
  missing_event_type: 400,
  invalid_event_type: 400,
  invalid_json: 400,
  too_deep: 400,
  unknown_envelope: 400,
  malformed_envelope: 400,
};

export function reject(reason: RejectReason, message: string): Rejection {
  return { ok: false, status: statusOf[reason], reason, message };
}
