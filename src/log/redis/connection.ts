import { Redis } from 'ioredis';
import { z } from 'zod';
import { LogError } from '../log-error.js';

/** How the Redis backends reach their server; validated at construction. */
export const redisConnectionSchema = z.object({
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  url: z.string().regex(/^rediss?:\/\/[^/?#]/, 'expected redis://host:port or rediss://host:port'),
  /** Put in front of every key and channel, so several relays (or tests) can share a server. */
  keyPrefix: z.string().max(100).default('relay:'),
  /**
   * How long one command may wait for its reply, queued during a reconnect included. A
   * commit that runs out of time fails with `store_unavailable` instead of hanging.
   */
  commandTimeoutMs: z.number().int().min(100).max(60_000).default(5000),
});

export type RedisConnectionOptions = z.input<typeof redisConnectionSchema>;

/**
 * Opens a connection that reconnects on its own (backing off to 0.5 s) while failing commands
 * clearly during an outage: a command waits for at most two reconnect attempts, and one in
 * flight when the connection drops is rejected, not resent — the caller reports the
 * failure; a webhook retried by its provider is then caught by dedup.
 */
export function connectRedis(url: string, commandTimeoutMs: number): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    autoResendUnfulfilledCommands: false,
    commandTimeout: commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 50, 500),
  });
  // Connection errors surface on the commands that fail; the event would otherwise crash
  // the process as an unhandled 'error'.
  redis.on('error', () => {});
  return redis;
}

/** Runs a Redis call of the event log, reporting a failure of the store (not a refusal) as `store_unavailable`. */
export async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof LogError) throw error;
    throw new LogError('store_unavailable', 'the event log store is unavailable', { cause: error });
  }
}
