/**
 * What outbound webhook delivery may connect to. A subscriber chooses the callback URL, so
 * without a policy the relay would POST wherever it is told: its own loopback services, the
 * cloud metadata endpoint, the private network behind it. Every address a callback host
 * resolves to is classified here; only public addresses are allowed by default, and
 * `RELAY_WEBHOOK_ALLOW` opens the rest class by class or host by host.
 */

/** The kinds of network an IP address may belong to. */
const ADDRESS_CLASSES = ['public', 'loopback', 'private', 'link_local', 'unique_local', 'cgnat', 'unspecified', 'multicast', 'broadcast', 'reserved'] as const;

/** The kind of network an IP address belongs to; only `public` is reachable without an allowance. */
export type AddressClass = (typeof ADDRESS_CLASSES)[number];

/** The address classes and the relay itself, as `RELAY_WEBHOOK_ALLOW` names them. */
export type EgressAllowance = 'loopback' | 'private' | 'self';

/** What `RELAY_WEBHOOK_ALLOW` opens beyond public addresses over https. */
export interface EgressPolicy {
  allow: Set<EgressAllowance>;
  /** `host` or `host:port` (lowercase, no trailing dot, IPv6 in brackets), allowed whatever it resolves to, over http too. */
  hosts: Set<string>;
}

/** One answer of a host lookup. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** An address and port the relay listens on, as `server.address()` reports it. */
export interface ListenAddress {
  address: string;
  port: number;
}

export type TargetCheck =
  | { ok: true; address: ResolvedAddress }
  | { ok: false; reason: 'scheme' | 'address_refused' | 'self'; detail: string };

type ParsedIp = { family: 4 | 6; value: bigint };

const MAX_CALLBACK_URL_LENGTH = 2048;
const SETTING = 'RELAY_WEBHOOK_ALLOW';

/** A CIDR block and what it means, its base already shifted right by the bits outside the prefix. */
interface Block<T> {
  label: T;
  base: bigint;
  shift: bigint;
}

function blocks<T>(width: 32 | 128, table: [T, string[]][]): Block<T>[] {
  return table.flatMap(([label, cidrs]) =>
    cidrs.map((cidr) => {
      const [base = '', bits = ''] = cidr.split('/');
      const shift = BigInt(width - Number(bits));
      return { label, base: (width === 32 ? BigInt(parseIPv4(base)!) : parseIPv6(base)!) >> shift, shift };
    }),
  );
}

const within = (value: bigint, block: Block<unknown>) => value >> block.shift === block.base;

/** The first block that contains an address decides; an IPv4 address in none is public. */
const IPV4_BLOCKS = blocks<AddressClass>(32, [
  ['unspecified', ['0.0.0.0/8']],
  ['loopback', ['127.0.0.0/8']],
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']],
  ['cgnat', ['100.64.0.0/10']],
  ['link_local', ['169.254.0.0/16']],
  ['multicast', ['224.0.0.0/4']],
  ['broadcast', ['255.255.255.255/32']],
  ['reserved', ['240.0.0.0/4', '192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24']],
]);

/** Looked up after the forms that embed an IPv4 address; an IPv6 address in none (outside `2000::/3`) is reserved. */
const IPV6_BLOCKS = blocks<AddressClass>(128, [
  ['unspecified', ['::/128']],
  ['loopback', ['::1/128']],
  ['unique_local', ['fc00::/7']],
  ['link_local', ['fe80::/10']],
  ['multicast', ['ff00::/8']],
  ['reserved', ['64:ff9b:1::/48', '100::/64', '2001::/23', '2001:db8::/32', '3fff::/20']],
  ['public', ['2000::/3']],
]);

/** IPv6 blocks whose addresses carry an IPv4 address, by how far right it sits: mapped, compatible (deprecated), NAT64; 6to4. */
const IPV4_EMBEDDING = blocks(128, [
  [0n, ['::ffff:0:0/96', '::/96', '64:ff9b::/96']],
  [80n, ['2002::/16']],
]);
const IPV4_MAPPED = IPV4_EMBEDDING[0]!;

const CLASSES_OF: Record<Exclude<EgressAllowance, 'self'>, ReadonlySet<AddressClass>> = {
  loopback: new Set(['loopback']),
  private: new Set(['private', 'unique_local', 'cgnat']),
};

function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

function parseIPv6(text: string): bigint | undefined {
  let body = text;
  let low = 0n;
  const lastColon = body.lastIndexOf(':');
  if (body.slice(lastColon + 1).includes('.')) {
    const ipv4 = parseIPv4(body.slice(lastColon + 1));
    if (ipv4 === undefined || lastColon < 1) return undefined;
    low = BigInt(ipv4);
    body = `${body.slice(0, lastColon + 1)}0:0`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string) => (part === '' ? [] : part.split(':'));
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  const count = head.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  if (![...head, ...tail].every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return undefined;
  const groups = [...head, ...Array<string>(8 - count).fill('0'), ...tail];
  return groups.reduce((value, group) => (value << 16n) | BigInt(`0x${group}`), 0n) | low;
}

/** An IP literal with or without brackets; an IPv6 zone id (`%eth0`) is accepted and ignored. */
function parseIp(text: string): ParsedIp | undefined {
  const unbracketed = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const ipv4 = parseIPv4(unbracketed);
  if (ipv4 !== undefined) return { family: 4, value: BigInt(ipv4) };
  const [address = '', zone, ...extra] = unbracketed.split('%');
  if (zone !== undefined && !/^[\w.-]+$/.test(zone)) return undefined;
  if (extra.length > 0 || !address.includes(':')) return undefined;
  const ipv6 = parseIPv6(address);
  return ipv6 === undefined ? undefined : { family: 6, value: ipv6 };
}

function classify(ip: ParsedIp): AddressClass {
  if (ip.family === 4) return IPV4_BLOCKS.find((block) => within(ip.value, block))?.label ?? 'public';
  const embedding = ip.value > 1n ? IPV4_EMBEDDING.find((block) => within(ip.value, block)) : undefined;
  if (embedding !== undefined) return classify({ family: 4, value: (ip.value >> embedding.label) & 0xffffffffn });
  return IPV6_BLOCKS.find((block) => within(ip.value, block))?.label ?? 'reserved';
}

/**
 * The class of an IP literal: an IPv4 dotted quad or any IPv6 text form, bracketed or not,
 * with or without a zone id. IPv6 addresses that carry an IPv4 address (IPv4-mapped,
 * IPv4-compatible, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are classified by that address.
 * @throws TypeError when `ip` is not an IP literal.
 */
export function classifyAddress(ip: string): AddressClass {
  const parsed = parseIp(ip);
  if (parsed === undefined) throw new TypeError(`not an IP address: ${JSON.stringify(ip)}`);
  return classify(parsed);
}

/** `localhost`, `localhost.` and every `*.localhost` name: loopback whatever DNS says. */
export function isLocalhostName(hostname: string): boolean {
  const name = stripTrailingDot(hostname.toLowerCase());
  return name === 'localhost' || name.endsWith('.localhost');
}

function stripTrailingDot(hostname: string): string {
  return hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** A host as the URL parser writes it (numeric IPv4 forms expanded, IPv6 compressed), without the trailing dot. */
function canonicalHost(host: string): string | undefined {
  let hostname: string;
  try {
    hostname = stripTrailingDot(new URL(`http://${host}/`).hostname);
  } catch {
    return undefined;
  }
  if (hostname.startsWith('[') || parseIPv4(hostname) !== undefined) return hostname;
  return hostname.length <= 253 && hostname.split('.').every((label) => LABEL.test(label)) ? hostname : undefined;
}

function parseHostItem(item: string): string | undefined {
  if (!/^[a-z0-9._:[\]-]+$/.test(item)) return undefined;
  const bracketed = /^(\[[^\]]+\])(?::(\d+))?$/.exec(item);
  const colon = item.lastIndexOf(':');
  if (!bracketed && colon !== item.indexOf(':')) return undefined;
  const [host, port] = bracketed ? [bracketed[1]!, bracketed[2]] : colon < 0 ? [item, undefined] : [item.slice(0, colon), item.slice(colon + 1)];
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65_535)) return undefined;
  const canonical = canonicalHost(host);
  if (canonical === undefined) return undefined;
  return port === undefined ? canonical : `${canonical}:${Number(port)}`;
}

/**
 * `RELAY_WEBHOOK_ALLOW`, a comma-separated list. `loopback` allows loopback addresses;
 * `private` allows 10/8, 172.16/12, 192.168/16, fc00::/7 and 100.64/10 (never link-local,
 * so never the cloud metadata endpoint); `self` allows the relay's own listen address; any
 * other item is a host name, IP literal (IPv6 in brackets) or `host:port`, allowed whatever
 * it resolves to and over http too.
 * @throws Error naming the first item that is none of these.
 */
export function parseEgressAllow(text: string): EgressPolicy {
  const policy: EgressPolicy = { allow: new Set(), hosts: new Set() };
  for (const item of text.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    if (item === 'loopback' || item === 'private' || item === 'self') {
      policy.allow.add(item);
      continue;
    }
    if ((ADDRESS_CLASSES as readonly string[]).includes(item)) {
      throw new Error(`${SETTING}: "${item}" cannot be allowed as a class (only loopback, private and self can); list the exact host instead`);
    }
    const host = parseHostItem(item);
    if (host === undefined) {
      throw new Error(`${SETTING}: "${item}" is not loopback, private, self, a host name, an IP address (IPv6 in brackets) or host:port`);
    }
    policy.hosts.add(host);
  }
  return policy;
}

/**
 * A callback URL as a subscriber gives it: at most 2048 characters, absolute http or https,
 * no `user:password@`, no fragment. The URL parser writes numeric IPv4 hosts (`127.1`,
 * `0x7f.1`, `2130706433`) as dotted quads, so {@link checkTarget} sees the real address.
 * @returns the URL, or why it is refused.
 */
export function parseCallbackUrl(text: string): URL | string {
  if (text.length > MAX_CALLBACK_URL_LENGTH) return `the callback URL is longer than ${MAX_CALLBACK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'the callback URL is not an absolute URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'the callback URL must be http or https';
  if (url.username !== '' || url.password !== '') return 'the callback URL must not carry user:password@';
  if (url.href.includes('#')) return 'the callback URL must not have a fragment';
  return url;
}

/** The port a URL connects to. */
export function effectivePort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** Compared as IPv4 when IPv4-mapped. */
function comparable(ip: ParsedIp): ParsedIp {
  if (ip.family === 6 && within(ip.value, IPV4_MAPPED)) return { family: 4, value: ip.value & 0xffffffffn };
  return ip;
}

/** A listen address of 0.0.0.0 or :: is reached through any loopback or unspecified address on its port. */
function isSelf(target: ParsedIp, port: number, self: ListenAddress[]): boolean {
  const to = comparable(target);
  const targetClass = classify(to);
  return self.some((listen) => {
    const parsed = listen.port === port ? parseIp(listen.address) : undefined;
    if (parsed === undefined) return false;
    const own = comparable(parsed);
    if (classify(own) === 'unspecified') return targetClass === 'loopback' || targetClass === 'unspecified';
    return own.family === to.family && own.value === to.value;
  });
}

/**
 * Whether delivery may connect to `url` at the addresses its host resolved to, and the one
 * address it must connect to (the first: no second lookup may choose another).
 *
 * Every address must be allowed, since DNS can answer a public and a private address at
 * once. Public addresses are allowed; other classes only as the policy allows them; a host
 * the policy lists is allowed whatever it resolves to. `localhost` names count as loopback
 * whatever they resolve to. The relay's own listen address is refused unless `self` is
 * allowed, whichever other allowance covers it (a relay delivering to itself would loop);
 * a caller listening on 0.0.0.0 or :: may pass its interface addresses in `self` too.
 * Plain http is allowed only when the host is listed or every address is allowed by the
 * policy rather than by being public.
 */
export function checkTarget(url: URL, addresses: ResolvedAddress[], policy: EgressPolicy, self: ListenAddress[]): TargetCheck {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: 'scheme', detail: `${url.protocol.slice(0, -1)} is not a delivery scheme; use https` };
  }
  const host = stripTrailingDot(url.hostname);
  const port = effectivePort(url);
  const listed = policy.hosts.has(host) || policy.hosts.has(`${host}:${port}`);
  const classAllowed = (cls: AddressClass) =>
    cls === 'public' || [...policy.allow].some((allowance) => allowance !== 'self' && CLASSES_OF[allowance].has(cls));
  if (addresses.length === 0) return { ok: false, reason: 'address_refused', detail: `${host} resolved to no address` };
  let somePublic = false;
  for (const { address } of addresses) {
    const ip = parseIp(address);
    if (ip === undefined) return { ok: false, reason: 'address_refused', detail: `${host} resolved to ${JSON.stringify(address)}, not an IP address` };
    if (isSelf(ip, port, self)) {
      if (!policy.allow.has('self')) return { ok: false, reason: 'self', detail: `${address} port ${port} is the relay's own listen address` };
      continue;
    }
    if (listed) continue;
    const classes = isLocalhostName(host) ? ['loopback' as const, classify(ip)] : [classify(ip)];
    const refused = classes.find((cls) => !classAllowed(cls));
    if (refused !== undefined) {
      return { ok: false, reason: 'address_refused', detail: `${address} (${refused}) is not allowed by ${SETTING}` };
    }
    if (classes.every((cls) => cls === 'public')) somePublic = true;
  }
  if (url.protocol === 'http:' && !listed && somePublic) {
    return { ok: false, reason: 'scheme', detail: `http is allowed only to hosts ${SETTING} lists or address classes it allows; use https` };
  }
  return { ok: true, address: addresses[0]! };
}
