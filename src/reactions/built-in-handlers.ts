import type { ReactionHandler } from './handler.js';
import { orderCustomerHandler, orderDeliveredHandler, orderDelayedHandler, orderShippedHandler } from './handlers/order-status.js';
import { paymentFailedHandler, paymentSucceededHandler } from './handlers/payment-status.js';
import { type HelpdeskFetcher, ticketEscalatedHandler } from './handlers/ticket-escalation.js';

export interface BuiltInHandlerOptions {
  /** Enriches escalations with what the webhook did not carry. */
  helpdesk?: HelpdeskFetcher;
}

/** The reactions every relay runs, before any user handlers. */
export function builtInHandlers(options: BuiltInHandlerOptions = {}): ReactionHandler[] {
  return [
    orderCustomerHandler,
    orderShippedHandler,
    orderDelayedHandler,
    orderDeliveredHandler,
    paymentFailedHandler,
    paymentSucceededHandler,
    ticketEscalatedHandler(options.helpdesk),
  ];
}
