import { promises as dns } from 'node:dns';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { EgressPolicy, ListenAddress, ResolvedAddress } from './address-policy.js';
import { checkTarget, effectivePort, isLocalhostName, parseCallbackUrl } from './address-policy.js';

export interface OutboundRequest {
  url: URL;
  method: 'POST' | 'GET';
  /** `host` and `content-length` here are replaced by the URL's host and the body's length. */
  headers: Record<string, string>;
  body?: Buffer;
  policy: EgressPolicy;
  /** The relay's own listen addresses, refused unless the policy allows `self`. */
  self: ListenAddress[];
  /** Time to establish the TCP connection; default 5000. */
  connectTimeoutMs?: number;
  /** The whole request, from the lookup to the last byte of the response read; default 15000. */
  timeoutMs?: number;
  /** At most this much of the response body is read, the rest is not; default 65536. */
  maxResponseBytes?: number;
  /** Host lookup; default `dns.promises.lookup(host, { all: true, verbatim: true })`. */
  resolve?: (hostname: string) => Promise<ResolvedAddress[]>;
  signal?: AbortSignal;
}

export type OutboundFailure =
  | 'invalid_url'
  | 'scheme'
  | 'address_refused'
  | 'self'
  | 'dns_error'
  | 'connection_refused'
  | 'timeout'
  | 'tls_error'
  | 'connection_error';

export type OutboundResult =
  | { ok: true; status: number; headers: IncomingHttpHeaders; body: Buffer; truncated: boolean; address: string }
  | { ok: false; reason: OutboundFailure; detail: string };

type Failure = Extract<OutboundResult, { ok: false }>;

/** TLS failures; EPROTO is what a peer that does not speak TLS causes. */
const TLS_CODE = /^(ERR_TLS|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_SSL|EPROTO$)/;
const MAX_DETAIL_LENGTH = 200;
const ABORTED = 'the request was aborted';
/** Headers the request itself decides. */
const OWN_HEADERS = new Set(['host', 'content-length']);

const defaultResolve = async (hostname: string): Promise<ResolvedAddress[]> =>
  (await dns.lookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

const fail = (reason: Failure['reason'], detail: string): Failure => ({ ok: false, reason, detail: detail.slice(0, MAX_DETAIL_LENGTH) });

/** An error's code and message, as one line. */
function errorLine(error: unknown): { code: string; detail: string } {
  const { code = '', message = String(error) } = error as { code?: string; message?: string };
  return { code, detail: code === '' ? message : `${code}: ${message}` };
}

/** What a socket or TLS error means for a delivery (lookup errors are `dns_error` where the lookup is made). */
function failureOf(error: unknown): Failure {
  const { code, detail } = errorLine(error);
  if (code === 'ECONNREFUSED') return fail('connection_refused', detail);
  if (code === 'ETIMEDOUT') return fail('timeout', detail);
  if (TLS_CODE.test(code)) return fail('tls_error', detail);
  return fail('connection_error', detail);
}

/** A URL's hostname without the brackets of an IPv6 literal. */
const unbracketed = (hostname: string) => (hostname.startsWith('[') ? hostname.slice(1, -1) : hostname);

/**
 * The addresses a callback host stands for. An IP literal is itself; a `localhost` name is
 * 127.0.0.1 without asking DNS; any other name is looked up once.
 */
async function addressesOf(hostname: string, resolve: NonNullable<OutboundRequest['resolve']>): Promise<ResolvedAddress[] | Failure> {
  const literal = unbracketed(hostname);
  const family = isIP(literal);
  if (family === 4 || family === 6) return [{ address: literal, family }];
  if (isLocalhostName(hostname)) return [{ address: '127.0.0.1', family: 4 }];
  try {
    const addresses = await resolve(hostname);
    return addresses.length > 0 ? addresses : fail('dns_error', `${hostname} has no address`);
  } catch (error) {
    return fail('dns_error', errorLine(error).detail);
  }
}

/**
 * One outbound HTTP request that can neither be redirected nor rebound. The host is looked
 * up once, every address it has is checked against the policy ({@link checkTarget}), and the
 * connection goes to the checked address itself (TLS still verifies the certificate for the
 * host name), so a second lookup cannot choose another address. A redirect is returned as
 * it is, never followed. Nothing is pooled. Never rejects: every failure is a result.
 */
export async function sendOutbound(request: OutboundRequest): Promise<OutboundResult> {
  const { url, policy, self, signal } = request;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail('scheme', `${url.protocol.slice(0, -1)} is not a delivery scheme; use https`);
  const invalid = parseCallbackUrl(url.href);
  if (typeof invalid === 'string') return fail('invalid_url', invalid);
  if (signal?.aborted) return fail('connection_error', ABORTED);

  const timeoutMs = request.timeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Failure>((resolve) => {
    timer = setTimeout(() => resolve(fail('timeout', `no complete response within ${timeoutMs} ms`)), timeoutMs);
  });
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<Failure>((resolve) => {
    onAbort = () => resolve(fail('connection_error', ABORTED));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  const settled: Promise<Failure>[] = [deadline, aborted];
  let req: ClientRequest | undefined;
  try {
    const addresses = await Promise.race([addressesOf(url.hostname, request.resolve ?? defaultResolve), ...settled]);
    if (!Array.isArray(addresses)) return addresses;
    const target = checkTarget(url, addresses, policy, self);
    if (!target.ok) return fail(target.reason, target.detail);
    return await Promise.race([exchange(request, target.address, (r) => (req = r)), ...settled]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    req?.destroy();
  }
}

/** Connects to `address`, sends the request and reads the response up to its byte bound. */
function exchange(request: OutboundRequest, address: ResolvedAddress, started: (req: ClientRequest) => void): Promise<OutboundResult> {
  const { url, body } = request;
  const connectTimeoutMs = request.connectTimeoutMs ?? 5000;
  const maxResponseBytes = request.maxResponseBytes ?? 65_536;
  const headers: Record<string, string> = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !OWN_HEADERS.has(name.toLowerCase())));
  headers.host = url.host;
  if (body !== undefined) headers['content-length'] = String(body.length);
  const literal = isIP(unbracketed(url.hostname)) !== 0;
  const servername = url.hostname.replace(/\.$/, '');

  return new Promise((resolve) => {
    const options = {
      host: address.address,
      family: address.family,
      port: effectivePort(url),
      method: request.method,
      path: `${url.pathname}${url.search}`,
      headers,
      agent: false,
      ...(url.protocol === 'https:' && !literal ? { servername } : {}),
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(options);
    started(req);
    let connectTimer: NodeJS.Timeout | undefined;
    const finish = (result: OutboundResult) => {
      clearTimeout(connectTimer);
      resolve(result);
    };
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(() => finish(fail('timeout', `no connection to ${address.address} within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    req.on('error', (error) => finish(failureOf(error)));
    req.on('response', (res) => readResponse(res, maxResponseBytes, address.address, finish));
    req.end(body);
  });
}

function readResponse(res: IncomingMessage, maxBytes: number, address: string, finish: (result: OutboundResult) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const answer = (truncated: boolean) =>
    finish({ ok: true, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size), truncated, address });
  res.on('data', (chunk: Buffer) => {
    const room = maxBytes - size;
    if (chunk.length <= room) {
      chunks.push(chunk);
      size += chunk.length;
      return;
    }
    chunks.push(chunk.subarray(0, room));
    size += room;
    answer(true);
    res.destroy();
  });
  res.on('end', () => answer(false));
  res.on('error', (error) => finish(fail('connection_error', `the response ended early (status ${res.statusCode}): ${error.message}`)));
  res.on('close', () => {
    if (!res.complete) finish(fail('connection_error', `the response ended early (status ${res.statusCode})`));
  });
}
