import { randomUUID } from 'node:crypto';

/** What an incoming `x-request-id` may look like to be kept: short, no spaces or control characters. */
const SANE = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The caller's `x-request-id` when it is sane (a proxy's id ties the logs together), else a fresh one. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE.test(header) ? header : randomUUID();
}
