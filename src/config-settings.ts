import { parseDuration } from './duration.js';
import type { OAuthSettings } from './http/access-tokens.js';
import type { ProviderKind } from './ingest/provider.js';
import { providerKinds } from './ingest/provider.js';
import { type EgressPolicy, parseEgressAllow } from './outbound/address-policy.js';

/*
 * The parsers of one setting each, for `loadConfig` (`config.ts`): every one fails with a
 * ConfigError whose one line names the variable and what it accepts.
 */

export type StoreConfig =
  | { kind: 'memory' }
  | { kind: 'sqlite'; path: string; synchronous: 'full' | 'normal' }
  /**
   * `url` may carry a password: print it with {@link describeStore} only. `requireDurable`:
   * refuse to start unless Redis keeps every acknowledged write (`RELAY_REDIS_REQUIRE_DURABLE`).
   */
  | { kind: 'redis'; url: string; requireDurable: boolean };

export interface WebhookSourceConfig {
  /** The route name: `POST /webhooks/<name>`, and the events' `source`. */
  name: string;
  provider: ProviderKind;
  /** Current first, then previous ones (rotation). Empty: the source is not configured. */
  secrets: string[];
  /** Where the secrets come from, for messages that tell an operator how to configure it. */
  secretVariable: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function parseStore(text: string, synchronous: 'full' | 'normal', requireDurable: boolean): StoreConfig | string {
  if (text === 'memory') return { kind: 'memory' };
  if (text.startsWith('sqlite:') && text.length > 'sqlite:'.length) return { kind: 'sqlite', path: text.slice('sqlite:'.length), synchronous };
  if (text.startsWith('redis://') || text.startsWith('rediss://')) return parseRedisUrl(text, requireDurable);
  return 'expected sqlite:<path>, memory, redis://host:port or rediss://host:port';
}

export function parseRedisUrl(text: string, requireDurable: boolean): StoreConfig | string {
  const usage = 'expected redis://[user:password@]host[:port][/db] (rediss:// for TLS)';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return usage;
  }
  if (url.hostname === '') return usage;
  if (!/^\/?\d*$/.test(url.pathname)) return `${usage}; the database is a number`;
  return { kind: 'redis', url: text, requireDurable };
}

/** The store setting with any password masked, for error messages. */
export function redactStore(text: string): string {
  return text.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}

const SOURCE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** `acme` → `ACME_WEBHOOK_SECRET`; `my-shop` → `MY_SHOP_WEBHOOK_SECRET`. */
export function secretVariable(source: string): string {
  return `${source.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_WEBHOOK_SECRET`;
}

/**
 * Why `principal` cannot name a principal, or `undefined` when it can: lowercase letters,
 * digits, `_`, `.`, `@` and `-`, at most 64; `relay` is reserved (`relay/…` groups are the
 * relay's own, the reactions group). API keys and access tokens map to principals alike.
 */
export function principalProblem(principal: string): string | undefined {
  if (!/^[a-z0-9][a-z0-9_.@-]{0,63}$/.test(principal)) return 'must be lowercase letters, digits, "_", ".", "@" or "-"';
  if (principal === 'relay') return "is reserved for the relay's own consumer groups";
  return undefined;
}

/** `key:principal,…`; keys are opaque bearer tokens, principals own consumer groups. */
export function parseApiKeys(text: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = item.lastIndexOf(':');
    const key = item.slice(0, at).trim();
    const principal = item.slice(at + 1).trim();
    if (at <= 0 || key.length < 16 || !/^[A-Za-z0-9._~+/=-]+$/.test(key)) {
      throw new ConfigError('RELAY_API_KEYS: each entry is <key>:<principal>, the key at least 16 URL-safe characters');
    }
    const problem = principalProblem(principal);
    if (problem !== undefined) throw new ConfigError(`RELAY_API_KEYS: principal "${principal}" ${problem}`);
    if (keys.has(key)) throw new ConfigError('RELAY_API_KEYS: a key is listed twice');
    keys.set(key, principal);
  }
  return keys;
}

/** An authorization server's URL: https, or http on a loopback host (a local issuer). */
function parseAuthorizationUrl(variable: string, text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || url.search !== '' || url.hash !== '' || !(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname)))) {
    throw new ConfigError(`${variable}=${JSON.stringify(text)}: expected an https URL without query or fragment (http only on loopback)`);
  }
  return text;
}

/** `RELAY_OAUTH_*`: the issuers whose JWT access tokens are accepted, or `undefined` when none is set. */
export function parseOAuth(e: { RELAY_OAUTH_ISSUER: string; RELAY_OAUTH_JWKS_URL?: string; RELAY_OAUTH_PRINCIPAL_CLAIM?: string; RELAY_OAUTH_JWKS_COOLDOWN?: number }): OAuthSettings | undefined {
  const issuers = [...new Set(e.RELAY_OAUTH_ISSUER.split(',').map((s) => s.trim()).filter(Boolean))].map((issuer) => parseAuthorizationUrl('RELAY_OAUTH_ISSUER', issuer));
  if (issuers.length === 0) {
    const stray = (['RELAY_OAUTH_JWKS_URL', 'RELAY_OAUTH_PRINCIPAL_CLAIM', 'RELAY_OAUTH_JWKS_COOLDOWN'] as const).find((name) => e[name] !== undefined);
    if (stray) throw new ConfigError(`${stray}: set RELAY_OAUTH_ISSUER too (the authorization servers whose tokens are accepted)`);
    return undefined;
  }
  if (e.RELAY_OAUTH_JWKS_URL !== undefined && issuers.length > 1) {
    throw new ConfigError('RELAY_OAUTH_JWKS_URL: only with a single RELAY_OAUTH_ISSUER; with several, each key set is discovered from its issuer');
  }
  const cooldownMs = e.RELAY_OAUTH_JWKS_COOLDOWN ?? 30_000;
  if (cooldownMs > 600_000) throw new ConfigError('RELAY_OAUTH_JWKS_COOLDOWN: must be at most 10m');
  return {
    issuers,
    jwksUrl: e.RELAY_OAUTH_JWKS_URL === undefined ? undefined : parseAuthorizationUrl('RELAY_OAUTH_JWKS_URL', e.RELAY_OAUTH_JWKS_URL),
    principalClaim: e.RELAY_OAUTH_PRINCIPAL_CLAIM ?? 'sub',
    jwksCooldownMs: cooldownMs,
  };
}

/** Loopback hosts, where an open relay (no API keys) may listen. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** One built-in source per provider kind, named after it, plus `RELAY_SOURCES=name:provider,…`, each with its secrets. */
export function parseSources(declared: string, env: NodeJS.ProcessEnv): WebhookSourceConfig[] {
  const kinds = new Map<string, ProviderKind>(providerKinds.map((kind) => [kind, kind]));
  for (const item of declared.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name = '', provider = ''] = item.split(':').map((s) => s.trim());
    const where = `RELAY_SOURCES=${JSON.stringify(declared)}`;
    if (!SOURCE_NAME.test(name)) throw new ConfigError(`${where}: "${name}" is not a source name (lowercase letters, digits, "_" or "-")`);
    if (!(providerKinds as readonly string[]).includes(provider)) {
      throw new ConfigError(`${where}: "${item}" must be <name>:<provider>, provider one of ${providerKinds.join(', ')}`);
    }
    if (kinds.has(name)) throw new ConfigError(`${where}: source "${name}" is declared twice`);
    kinds.set(name, provider as ProviderKind);
  }
  return [...kinds].map(([name, provider]) => {
    const variable = secretVariable(name);
    const secrets = (env[variable] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    return { name, provider, secrets, secretVariable: variable };
  });
}

export function parseEgress(text: string): EgressPolicy {
  try {
    return parseEgressAllow(text);
  } catch (error) {
    throw new ConfigError(`RELAY_WEBHOOK_ALLOW=${JSON.stringify(text)}: ${(error as Error).message}`);
  }
}

/** `5s,30s,2m,10m`: the waits before the 2nd, 3rd, … attempt (0–10 waits, each at most 1h). */
export function parseRetrySchedule(text: string): number[] {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  const delays = items.map(parseDuration);
  if (items.length > 10 || delays.some((ms) => ms === undefined || ms > 3_600_000)) {
    throw new ConfigError(`RELAY_WEBHOOK_RETRY=${JSON.stringify(text)}: expected up to 10 comma-separated waits of at most 1h, e.g. 5s,30s,2m,10m`);
  }
  return delays as number[];
}
