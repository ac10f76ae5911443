import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DURATION_UNITS, parseDuration } from './duration.js';
import type { OAuthSettings } from './http/access-tokens.js';
import type { BudgetLimits } from './http/budget.js';
import type { LogLevel } from './observe/logger.js';
import type { EgressPolicy } from './outbound/address-policy.js';
import {
  ConfigError,
  isLoopbackHost,
  parseApiKeys,
  parseEgress,
  parseOAuth,
  parseRetrySchedule,
  parseSources,
  parseStore,
  redactStore,
  type StoreConfig,
  type WebhookSourceConfig,
} from './config-settings.js';

export { ConfigError, isLoopbackHost, principalProblem, secretVariable, type StoreConfig, type WebhookSourceConfig } from './config-settings.js';

/**
 * The only place that reads the environment. Every setting has an environment variable
 * and, where an operator changes it per run, a CLI flag (flags win). Invalid settings fail
 * fast with one line that names the variable and what it accepts.
 */

export interface RelayConfig {
  logLevel: LogLevel;
  /** Bearer token → principal. Empty: open access, allowed on loopback only. */
  apiKeys: Map<string, string>;
  /** Origins allowed besides the relay's own host (browsers on other sites get 403). */
  allowedOrigins: string[];
  /** Principals that see every tenant in `/metrics` and `/status` (and, later, may write through the admin API). */
  adminPrincipals: Set<string>;
  /** OAuth access tokens accepted beside the API keys; `undefined` without `RELAY_OAUTH_ISSUER`. */
  oauth: OAuthSettings | undefined;
  /** What clients may hold open, per principal and in total; a client over a bound is refused, never queued. */
  limits: {
    /** Push streams (`events/stream`, both eras). */
    streams: BudgetLimits;
    /** 2025-11-25 sessions. */
    sessions: BudgetLimits;
    /** A 2025-11-25 session unused this long is closed. */
    sessionIdleMs: number;
    /** 2026-07-28 `subscriptions/listen` streams. */
    listens: BudgetLimits;
    /** `GET /feed` connections. */
    feeds: BudgetLimits;
    /** `events/poll` requests waiting with `timeoutMs`. */
    longPolls: BudgetLimits;
    /** Consumer group names one principal may create. */
    groupsPerPrincipal: number;
  };
  /** node:http timeouts, so a slow or idle sender cannot hold a socket. */
  http: {
    /** Time to receive a request's headers. */
    headersTimeoutMs: number;
    /** Time to receive a whole request (headers and body); responses may stream longer. */
    requestTimeoutMs: number;
    /** How long an idle keep-alive connection is kept. */
    keepAliveTimeoutMs: number;
  };
  /** After the first SIGTERM/SIGINT, the process exits by this deadline whatever is still open. */
  shutdownGraceMs: number;
  mcp: {
    /** Heartbeat interval of push streams (at most 30 s). */
    heartbeatMs: number;
    /** A push stream whose unsent frames pass this many bytes is disconnected (it resumes by cursor). */
    streamBufferBytes: number;
    /** How long a legacy push stream that lost its connection can be resumed with Last-Event-ID. */
    resumeWindowMs: number;
    /** Push connections are rotated after this long (0: never). */
    streamLifetimeMs: number;
  };
  host: string;
  port: number;
  store: StoreConfig;
  log: {
    leaseMs: number;
    maxDeliveries: number;
    dedupWindowMs: number;
  };
  webhooks: {
    sources: WebhookSourceConfig[];
    toleranceS: number;
    maxBodyBytes: number;
  };
  /** Outbound webhook delivery (`events/subscribe`). */
  callbacks: {
    /** What callbacks may reach besides public https endpoints (`RELAY_WEBHOOK_ALLOW`). */
    egress: EgressPolicy;
    /** The longest (and default) subscription grant. */
    ttlMs: number;
    /** Waits between the attempts of one event. */
    retryDelaysMs: number[];
    /** Every attempt failing this long suspends a subscription. */
    suspendAfterMs: number;
    perPrincipal: number;
    /** One instance's claim on delivering a subscription (several instances on Redis). */
    leaseMs: number;
    /** One callback request, connecting and reading the answer included. */
    timeoutMs: number;
  };
  retention: {
    maxAgeMs: number;
    maxEvents: number | undefined;
    /** How often retention is applied. */
    intervalMs: number;
  };
  reactions: {
    /** Run the reactions (customer memory, derived events); on unless `RELAY_REACTIONS=off`. */
    enabled: boolean;
    /** Base of links in derived events; `undefined`: the relay's bound address. */
    publicUrl: string | undefined;
    /** User handler modules (`RELAY_HANDLERS`, comma-separated paths). */
    handlerModules: string[];
    /** The reactions group's lease, also the delay before a failed reaction is retried. */
    leaseMs: number;
  };
  observe: {
    /** An accepted event neither delivered to an agent nor acked this long after receipt is dropped. */
    dropDeadlineMs: number;
    /** The window the drop rate (and its alert) is computed over. */
    dropWindowMs: number;
    /** Drop rate above which the alert is raised (0.001 = 0.1 %). */
    dropAlert: number;
  };
}

const intIn = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) ctx.addIssue({ code: 'custom', message: 'expected a duration such as 30s, 15m, 7d or milliseconds' });
  return ms ?? 0;
});

const envSchema = z.object({
  RELAY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: intIn(0, 65_535).default(8787),
  RELAY_STORE: z.string().default('sqlite:./data/relay.db'),
  RELAY_SQLITE_SYNCHRONOUS: z.enum(['full', 'normal']).default('full'),
  RELAY_REDIS_REQUIRE_DURABLE: z.enum(['0', '1']).default('0'),
  RELAY_LEASE: duration.default(30_000),
  RELAY_MAX_DELIVERIES: intIn(1, 100).default(5),
  RELAY_DEDUP_WINDOW: duration.default(7 * DURATION_UNITS.d!),
  RELAY_RETENTION_MAX_AGE: duration.default(30 * DURATION_UNITS.d!),
  RELAY_RETENTION_MAX_EVENTS: intIn(1, Number.MAX_SAFE_INTEGER).optional(),
  RELAY_RETENTION_INTERVAL: duration.default(60_000),
  RELAY_SOURCES: z.string().default(''),
  RELAY_API_KEYS: z.string().default(''),
  RELAY_ALLOWED_ORIGINS: z.string().default(''),
  RELAY_HEARTBEAT: duration.default(15_000),
  RELAY_MAX_STREAMS_PER_PRINCIPAL: intIn(1, 10_000).default(16),
  RELAY_MAX_STREAMS: intIn(1, 1_000_000).default(4096),
  RELAY_MAX_SESSIONS_PER_PRINCIPAL: intIn(1, 10_000).default(64),
  RELAY_MAX_SESSIONS: intIn(1, 1_000_000).default(4096),
  RELAY_SESSION_IDLE: duration.default(30 * 60_000),
  RELAY_MAX_LISTENS_PER_PRINCIPAL: intIn(1, 10_000).default(16),
  RELAY_MAX_LISTENS: intIn(1, 1_000_000).default(4096),
  RELAY_MAX_FEEDS_PER_PRINCIPAL: intIn(1, 10_000).default(16),
  RELAY_MAX_FEEDS: intIn(1, 1_000_000).default(1024),
  RELAY_MAX_LONG_POLLS_PER_PRINCIPAL: intIn(1, 10_000).default(32),
  RELAY_MAX_LONG_POLLS: intIn(1, 1_000_000).default(2048),
  RELAY_MAX_GROUPS_PER_PRINCIPAL: intIn(1, 1_000_000).default(256),
  RELAY_ADMIN_PRINCIPALS: z.string().default(''),
  RELAY_OAUTH_ISSUER: z.string().default(''),
  RELAY_OAUTH_JWKS_URL: z.string().optional(),
  RELAY_OAUTH_PRINCIPAL_CLAIM: z
    .string()
    .regex(/^[A-Za-z0-9_.:/-]{1,128}$/, 'expected a claim name such as sub, email or https://example.com/principal')
    .optional(),
  RELAY_OAUTH_JWKS_COOLDOWN: duration.optional(),
  RELAY_HEADERS_TIMEOUT: duration.default(10_000),
  RELAY_REQUEST_TIMEOUT: duration.default(30_000),
  RELAY_KEEP_ALIVE_TIMEOUT: duration.default(5_000),
  RELAY_SHUTDOWN_GRACE: duration.default(10_000),
  RELAY_STREAM_BUFFER_BYTES: intIn(4096, 256 * 1024 * 1024).default(1024 * 1024),
  RELAY_RESUME_WINDOW: duration.default(10 * 60_000),
  RELAY_STREAM_LIFETIME: duration.default(0),
  RELAY_WEBHOOK_TOLERANCE_S: intIn(1, 86_400).default(300),
  RELAY_MAX_BODY_BYTES: intIn(1024, 64 * 1024 * 1024).default(1024 * 1024),
  RELAY_WEBHOOK_ALLOW: z.string().default(''),
  RELAY_WEBHOOK_TTL: duration.default(24 * 3_600_000),
  RELAY_WEBHOOK_RETRY: z.string().default('5s,30s,2m,10m'),
  RELAY_WEBHOOK_SUSPEND_AFTER: duration.default(3_600_000),
  RELAY_MAX_WEBHOOKS_PER_PRINCIPAL: intIn(1, 100_000).default(100),
  RELAY_WEBHOOK_LEASE: duration.default(15_000),
  RELAY_WEBHOOK_TIMEOUT: duration.default(15_000),
  RELAY_REACTIONS: z.enum(['on', 'off']).default('on'),
  RELAY_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://relay.example.com' })
    .optional(),
  RELAY_HANDLERS: z.string().default(''),
  RELAY_REACTIONS_LEASE: duration.default(30_000),
  RELAY_DROP_DEADLINE_S: intIn(1, 86_400).default(300),
  RELAY_DROP_WINDOW_S: intIn(10, 7 * 86_400).default(3600),
  RELAY_DROP_ALERT: z.coerce.number().min(0).max(1).default(0.001),
});

/** Options of `serve`, which map onto environment variables. */
const FLAGS = {
  host: { type: 'string', env: 'HOST' },
  port: { type: 'string', env: 'PORT' },
  store: { type: 'string', env: 'RELAY_STORE' },
} as const;

export function loadConfig(env: NodeJS.ProcessEnv, argv: string[] = []): RelayConfig {
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(FLAGS).map(([name, spec]) => [name, { type: spec.type }])),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const merged: Record<string, string | undefined> = {};
  for (const key of Object.keys(envSchema.shape)) if (env[key] !== undefined && env[key] !== '') merged[key] = env[key];
  for (const [name, spec] of Object.entries(FLAGS)) {
    const value = flags[name];
    if (typeof value === 'string') merged[spec.env] = value;
  }
  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0]);
    throw new ConfigError(`${key}=${JSON.stringify(merged[key] ?? '')}: ${issue.message}`);
  }
  const e = parsed.data;
  const store = parseStore(e.RELAY_STORE, e.RELAY_SQLITE_SYNCHRONOUS, e.RELAY_REDIS_REQUIRE_DURABLE === '1');
  if (typeof store === 'string') throw new ConfigError(`RELAY_STORE=${JSON.stringify(redactStore(e.RELAY_STORE))}: ${store}`);
  if (e.RELAY_LEASE < 1000 || e.RELAY_LEASE > 3_600_000) throw new ConfigError(`RELAY_LEASE: must be between 1s and 1h`);
  if (e.RELAY_DEDUP_WINDOW < 60_000) throw new ConfigError(`RELAY_DEDUP_WINDOW: must be at least 1m`);
  if (e.RELAY_REACTIONS_LEASE < 1000 || e.RELAY_REACTIONS_LEASE > 3_600_000) throw new ConfigError('RELAY_REACTIONS_LEASE: must be between 1s and 1h');
  if (e.RELAY_HEARTBEAT < 100 || e.RELAY_HEARTBEAT > 30_000) throw new ConfigError('RELAY_HEARTBEAT: must be between 100ms and 30s');
  if (e.RELAY_SESSION_IDLE < 1000 || e.RELAY_SESSION_IDLE > 7 * DURATION_UNITS.d!) throw new ConfigError('RELAY_SESSION_IDLE: must be between 1s and 7d');
  if (e.RELAY_HEADERS_TIMEOUT < 100) throw new ConfigError('RELAY_HEADERS_TIMEOUT: must be at least 100ms');
  if (e.RELAY_REQUEST_TIMEOUT < e.RELAY_HEADERS_TIMEOUT) throw new ConfigError('RELAY_REQUEST_TIMEOUT: must be at least RELAY_HEADERS_TIMEOUT');
  if (e.RELAY_KEEP_ALIVE_TIMEOUT < 100) throw new ConfigError('RELAY_KEEP_ALIVE_TIMEOUT: must be at least 100ms');
  if (e.RELAY_SHUTDOWN_GRACE < 100) throw new ConfigError('RELAY_SHUTDOWN_GRACE: must be at least 100ms');
  if (e.RELAY_WEBHOOK_TTL < 60_000) throw new ConfigError('RELAY_WEBHOOK_TTL: must be at least 1m');
  if (e.RELAY_WEBHOOK_LEASE < 1000 || e.RELAY_WEBHOOK_LEASE > 600_000) throw new ConfigError('RELAY_WEBHOOK_LEASE: must be between 1s and 10m');
  if (e.RELAY_WEBHOOK_TIMEOUT < 100 || e.RELAY_WEBHOOK_TIMEOUT > 60_000) throw new ConfigError('RELAY_WEBHOOK_TIMEOUT: must be between 100ms and 60s');
  if (e.RELAY_WEBHOOK_SUSPEND_AFTER < 1000) throw new ConfigError('RELAY_WEBHOOK_SUSPEND_AFTER: must be at least 1s');
  const apiKeys = parseApiKeys(e.RELAY_API_KEYS);
  const oauth = parseOAuth(e);
  if (apiKeys.size === 0 && !oauth && !isLoopbackHost(e.HOST)) {
    throw new ConfigError(`HOST=${JSON.stringify(e.HOST)}: refusing to serve without RELAY_API_KEYS or RELAY_OAUTH_ISSUER on a non-loopback address`);
  }
  if (oauth && e.RELAY_PUBLIC_URL === undefined && !isLoopbackHost(e.HOST)) {
    throw new ConfigError('RELAY_OAUTH_ISSUER: set RELAY_PUBLIC_URL to the address clients use (access tokens name <it>/mcp as their audience)');
  }
  return {
    logLevel: e.RELAY_LOG_LEVEL,
    apiKeys,
    allowedOrigins: e.RELAY_ALLOWED_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean),
    adminPrincipals: new Set(e.RELAY_ADMIN_PRINCIPALS.split(',').map((s) => s.trim()).filter(Boolean)),
    oauth,
    limits: {
      streams: { perPrincipal: e.RELAY_MAX_STREAMS_PER_PRINCIPAL, total: e.RELAY_MAX_STREAMS },
      sessions: { perPrincipal: e.RELAY_MAX_SESSIONS_PER_PRINCIPAL, total: e.RELAY_MAX_SESSIONS },
      sessionIdleMs: e.RELAY_SESSION_IDLE,
      listens: { perPrincipal: e.RELAY_MAX_LISTENS_PER_PRINCIPAL, total: e.RELAY_MAX_LISTENS },
      feeds: { perPrincipal: e.RELAY_MAX_FEEDS_PER_PRINCIPAL, total: e.RELAY_MAX_FEEDS },
      longPolls: { perPrincipal: e.RELAY_MAX_LONG_POLLS_PER_PRINCIPAL, total: e.RELAY_MAX_LONG_POLLS },
      groupsPerPrincipal: e.RELAY_MAX_GROUPS_PER_PRINCIPAL,
    },
    http: { headersTimeoutMs: e.RELAY_HEADERS_TIMEOUT, requestTimeoutMs: e.RELAY_REQUEST_TIMEOUT, keepAliveTimeoutMs: e.RELAY_KEEP_ALIVE_TIMEOUT },
    shutdownGraceMs: e.RELAY_SHUTDOWN_GRACE,
    mcp: {
      heartbeatMs: e.RELAY_HEARTBEAT,
      streamBufferBytes: e.RELAY_STREAM_BUFFER_BYTES,
      resumeWindowMs: e.RELAY_RESUME_WINDOW,
      streamLifetimeMs: e.RELAY_STREAM_LIFETIME,
    },
    host: e.HOST,
    port: e.PORT,
    store,
    log: { leaseMs: e.RELAY_LEASE, maxDeliveries: e.RELAY_MAX_DELIVERIES, dedupWindowMs: e.RELAY_DEDUP_WINDOW },
    webhooks: {
      sources: parseSources(e.RELAY_SOURCES, env),
      toleranceS: e.RELAY_WEBHOOK_TOLERANCE_S,
      maxBodyBytes: e.RELAY_MAX_BODY_BYTES,
    },
    callbacks: {
      egress: parseEgress(e.RELAY_WEBHOOK_ALLOW),
      ttlMs: e.RELAY_WEBHOOK_TTL,
      retryDelaysMs: parseRetrySchedule(e.RELAY_WEBHOOK_RETRY),
      suspendAfterMs: e.RELAY_WEBHOOK_SUSPEND_AFTER,
      perPrincipal: e.RELAY_MAX_WEBHOOKS_PER_PRINCIPAL,
      leaseMs: e.RELAY_WEBHOOK_LEASE,
      timeoutMs: e.RELAY_WEBHOOK_TIMEOUT,
    },
    retention: {
      maxAgeMs: e.RELAY_RETENTION_MAX_AGE,
      maxEvents: e.RELAY_RETENTION_MAX_EVENTS,
      intervalMs: Math.max(1000, e.RELAY_RETENTION_INTERVAL),
    },
    reactions: {
      enabled: e.RELAY_REACTIONS === 'on',
      publicUrl: e.RELAY_PUBLIC_URL?.replace(/\/+$/, ''),
      handlerModules: e.RELAY_HANDLERS.split(',').map((s) => s.trim()).filter(Boolean),
      leaseMs: e.RELAY_REACTIONS_LEASE,
    },
    observe: {
      dropDeadlineMs: e.RELAY_DROP_DEADLINE_S * 1000,
      dropWindowMs: e.RELAY_DROP_WINDOW_S * 1000,
      dropAlert: e.RELAY_DROP_ALERT,
    },
  };
}

/** The store as the operator wrote it, for /healthz and the start-up line. */
export function describeStore(store: StoreConfig): string {
  if (store.kind === 'sqlite') return `sqlite:${store.path}`;
  if (store.kind === 'redis') {
    const url = new URL(store.url);
    return `${url.protocol}//${url.host}${url.pathname.length > 1 ? url.pathname : ''}`;
  }
  return store.kind;
}
