/** What the agent should ask of a customer whose payment failed. */
export type SuggestedAction = 'update_payment_method' | 'contact_bank' | 'retry_later';

/** Problems with the card itself: the customer fixes them by using or correcting a card. */
const CARD_PROBLEMS = new Set([
  'card_declined',
  'insufficient_funds',
  'expired_card',
  'incorrect_cvc',
  'invalid_cvc',
  'incorrect_number',
  'invalid_number',
  'invalid_expiry_month',
  'invalid_expiry_year',
  'incorrect_zip',
  'card_not_supported',
  'currency_not_supported',
  'lost_card',
  'stolen_card',
  'pickup_card',
  'restricted_card',
  'card_velocity_exceeded',
  'withdrawal_count_limit_exceeded',
  'payment_method_unactivated',
]);

/** Problems only the customer's bank can lift. */
const BANK_PROBLEMS = new Set([
  'bank_account_restricted',
  'bank_account_closed',
  'bank_account_frozen',
  'bank_account_unusable',
  'bank_account_declined',
  'debit_not_authorized',
  'no_account',
  'account_closed',
  'account_frozen',
  'do_not_honor',
  'call_issuer',
  'transaction_not_allowed',
  'not_permitted',
  'security_violation',
  'authentication_required',
  'invalid_account',
]);

function classOf(code: string | null): SuggestedAction | null {
  if (code === null) return null;
  if (CARD_PROBLEMS.has(code)) return 'update_payment_method';
  if (BANK_PROBLEMS.has(code)) return 'contact_bank';
  return null;
}

/**
 * The decline code is the more specific of the two (Stripe sends `card_declined` with e.g.
 * `do_not_honor`), so it decides when it is known; then the failure code; else retry later
 * (processing errors, rate limits, unknown codes).
 */
export function suggestedAction(failureCode: string | null, declineCode: string | null): SuggestedAction {
  return classOf(declineCode) ?? classOf(failureCode) ?? 'retry_later';
}
