import type { BackoffOptions } from './options.js';

/** Delay before retry `attempt` (0-based): full jitter over an exponentially growing cap. */
export function backoffDelay(attempt: number, options: Required<BackoffOptions>): number {
  const cap = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** Math.min(attempt, 30));
  return Math.round(Math.random() * cap);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
