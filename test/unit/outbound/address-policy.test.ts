import { describe, expect, it } from 'vitest';
import type { EgressAllowance, EgressPolicy, ListenAddress, ResolvedAddress } from '../../../src/outbound/address-policy.js';
import { checkTarget, classifyAddress, isLocalhostName, parseCallbackUrl, parseEgressAllow } from '../../../src/outbound/address-policy.js';

const policy = (allow: EgressAllowance[]): EgressPolicy => ({ allow: new Set(allow), hosts: new Set() });
const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });
const check = (url: string, addresses: ResolvedAddress[], egress: EgressPolicy, self: ListenAddress[] = []) =>
  checkTarget(new URL(url), addresses, egress, self);

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['172.15.255.255', 'public'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link_local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.1', 'public'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.254', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.19.255.255', 'reserved'],
    ['198.20.0.1', 'public'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link_local'],
    ['febf:ffff::1', 'link_local'],
    ['fd00::1', 'unique_local'],
    ['fc00::1', 'unique_local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::FFFF:7F00:1', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link_local'],
    ['64:ff9b::808:808', 'public'],
    ['64:ff9b:1::1', 'reserved'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:a00:1::1', 'private'],
    ['2002:808:808::1', 'public'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'reserved'],
    ['100::1', 'reserved'],
    ['2606:4700::1111', 'public'],
    ['2a00:1450:4001:80b::200e', 'public'],
    ['4000::1', 'reserved'],
    ['fe80::1%eth0', 'link_local'],
    ['[fe80::1%eth0]', 'link_local'],
    ['::1%lo', 'loopback'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it.each(['', 'localhost', '127.1', '0x7f.0.0.1', '2130706433', '010.0.0.1', '256.0.0.1', '1.2.3.4%eth0', '1::2::3', ':1::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '::1%', '[::1', 'gggg::', '::1.2.3'])(
    '%j is not an IP literal',
    (text) => {
      expect(() => classifyAddress(text)).toThrow(TypeError);
    },
  );
});

describe('parseCallbackUrl', () => {
  it.each(['http://127.1/', 'http://0x7f.1/', 'http://2130706433/', 'http://0177.0.0.1/', 'http://[::ffff:127.0.0.1]/', 'http://[0:0:0:0:0:0:0:1]/'])(
    '%s names a loopback address once parsed',
    (text) => {
      const url = parseCallbackUrl(text);
      if (typeof url === 'string') throw new Error(url);
      expect(classifyAddress(url.hostname)).toBe('loopback');
    },
  );

  it('keeps localhost. a localhost name', () => {
    const url = parseCallbackUrl('http://LocalHost.:8080/x');
    if (typeof url === 'string') throw new Error(url);
    expect(url.hostname).toBe('localhost.');
    expect(isLocalhostName(url.hostname)).toBe(true);
    expect(isLocalhostName('hooks.localhost')).toBe(true);
    expect(isLocalhostName('localhost.example.com')).toBe(false);
  });

  it('accepts an https URL with a path and a query', () => {
    const url = parseCallbackUrl('https://hooks.example.com/in?tenant=a');
    expect(url).toBeInstanceOf(URL);
    expect((url as URL).href).toBe('https://hooks.example.com/in?tenant=a');
  });

  it.each([
    ['https://user:pass@hooks.example.com/', /user:password@/],
    ['https://user@hooks.example.com/', /user:password@/],
    ['https://hooks.example.com/#top', /fragment/],
    ['https://hooks.example.com/#', /fragment/],
    ['ftp://hooks.example.com/', /http or https/],
    ['javascript:alert(1)', /http or https/],
    ['/relative/path', /absolute/],
    ['https://', /absolute/],
  ])('refuses %s', (text, message) => {
    expect(parseCallbackUrl(text)).toMatch(message);
  });

  it('allows 2048 characters and refuses 2049', () => {
    const base = 'https://hooks.example.com/';
    expect(parseCallbackUrl(base + 'a'.repeat(2048 - base.length))).toBeInstanceOf(URL);
    expect(parseCallbackUrl(base + 'a'.repeat(2049 - base.length))).toMatch(/longer than 2048/);
  });
});

describe('parseEgressAllow', () => {
  it('is empty for an empty setting', () => {
    expect(parseEgressAllow('')).toEqual({ allow: new Set(), hosts: new Set() });
    expect(parseEgressAllow(' , ')).toEqual({ allow: new Set(), hosts: new Set() });
  });

  it('reads classes and hosts, written as the URL parser writes them', () => {
    const parsed = parseEgressAllow('loopback, PRIVATE,self, Hooks.Example., hooks.internal:8080, 127.1, [0:0::1]:9000, 169.254.169.254');
    expect(parsed.allow).toEqual(new Set(['loopback', 'private', 'self']));
    expect(parsed.hosts).toEqual(new Set(['hooks.example', 'hooks.internal:8080', '127.0.0.1', '[::1]:9000', '169.254.169.254']));
  });

  it.each(['link_local', 'public', 'http://hooks.example', 'hooks example', '*.example.com', 'hooks.example:0', 'hooks.example:70000', 'hooks.example:', '::1', 'a..b', '-bad.example', 'hooks.example/path', 'user@hooks.example', '1.2.3.999'])(
    'refuses %j and names it',
    (item) => {
      expect(() => parseEgressAllow(`loopback,${item}`)).toThrow(`RELAY_WEBHOOK_ALLOW: "${item.toLowerCase()}"`);
    },
  );
});

describe('checkTarget', () => {
  const none = policy([]);

  it('allows a public address over https and names the address to connect to', () => {
    expect(check('https://hooks.example.com/', [v4('93.184.216.34'), v6('2606:2800:220:1::')], none)).toEqual({ ok: true, address: v4('93.184.216.34') });
  });

  it('refuses plain http to a public address', () => {
    expect(check('http://hooks.example.com/', [v4('93.184.216.34')], none)).toMatchObject({ ok: false, reason: 'scheme' });
    expect(check('http://hooks.example.com/', [v4('93.184.216.34')], policy(['loopback', 'private']))).toMatchObject({ ok: false, reason: 'scheme' });
  });

  it('refuses a scheme other than http and https', () => {
    expect(check('ftp://hooks.example.com/', [v4('93.184.216.34')], none)).toMatchObject({ ok: false, reason: 'scheme' });
  });

  it('refuses loopback unless it is allowed, and then allows http to it', () => {
    expect(check('https://127.0.0.1/', [v4('127.0.0.1')], none)).toMatchObject({ ok: false, reason: 'address_refused', detail: expect.stringContaining('loopback') });
    expect(check('http://[::1]:8080/', [v6('::1')], policy(['private']))).toMatchObject({ ok: false, reason: 'address_refused' });
    expect(check('http://127.0.0.1:8080/', [v4('127.0.0.1')], policy(['loopback']))).toEqual({ ok: true, address: v4('127.0.0.1') });
  });

  it('lets private allow the private ranges but never link-local or the metadata endpoint', () => {
    const priv = policy(['private']);
    for (const address of ['10.0.0.1', '172.20.0.1', '192.168.0.10', '100.64.1.1']) expect(check('http://internal/', [v4(address)], priv)).toMatchObject({ ok: true });
    expect(check('http://internal/', [v6('fd12::1')], priv)).toMatchObject({ ok: true });
    expect(check('http://internal/', [v4('169.254.169.254')], priv)).toMatchObject({ ok: false, reason: 'address_refused' });
    expect(check('http://internal/', [v6('fe80::1')], priv)).toMatchObject({ ok: false, reason: 'address_refused' });
    expect(check('http://internal/', [v4('127.0.0.1')], priv)).toMatchObject({ ok: false, reason: 'address_refused' });
  });

  it('always refuses unspecified, multicast, broadcast and reserved addresses', () => {
    const all = policy(['loopback', 'private', 'self']);
    for (const address of ['0.0.0.0', '224.0.0.1', '255.255.255.255', '192.0.2.1', '198.18.0.1']) {
      expect(check('https://hooks.example.com/', [v4(address)], all)).toMatchObject({ ok: false, reason: 'address_refused' });
    }
    expect(check('https://hooks.example.com/', [v6('::')], all)).toMatchObject({ ok: false, reason: 'address_refused' });
  });

  it('refuses a host whose addresses mix public and refused ones, in either order', () => {
    expect(check('https://rebind.example/', [v4('8.8.8.8'), v4('127.0.0.1')], none)).toMatchObject({ ok: false, reason: 'address_refused' });
    expect(check('https://rebind.example/', [v4('10.0.0.1'), v4('8.8.8.8')], none)).toMatchObject({ ok: false, reason: 'address_refused' });
    expect(check('https://rebind.example/', [v6('2606:4700::1111'), v6('::ffff:169.254.169.254')], none)).toMatchObject({ ok: false, reason: 'address_refused' });
  });

  it('refuses plain http when one of the addresses is allowed only for being public', () => {
    expect(check('http://mixed.example/', [v4('127.0.0.1'), v4('8.8.8.8')], policy(['loopback']))).toMatchObject({ ok: false, reason: 'scheme' });
  });

  it('refuses a host resolving to nothing or to something that is not an address', () => {
    expect(check('https://hooks.example.com/', [], none)).toMatchObject({ ok: false, reason: 'address_refused' });
    expect(check('https://hooks.example.com/', [v4('not-an-ip')], none)).toMatchObject({ ok: false, reason: 'address_refused' });
  });

  it('treats localhost names as loopback whatever they resolve to', () => {
    for (const url of ['https://localhost/', 'https://localhost./', 'https://api.localhost/']) {
      expect(check(url, [v4('93.184.216.34')], none)).toMatchObject({ ok: false, reason: 'address_refused', detail: expect.stringContaining('loopback') });
    }
    expect(check('http://localhost:3000/', [v4('127.0.0.1')], policy(['loopback']))).toMatchObject({ ok: true });
  });

  it('refuses the relay itself even when loopback is allowed, and allows it with self', () => {
    const self = [{ address: '127.0.0.1', port: 8787 }];
    expect(check('http://127.0.0.1:8787/webhooks/x', [v4('127.0.0.1')], policy(['loopback']), self)).toMatchObject({ ok: false, reason: 'self' });
    expect(check('http://127.0.0.1:8788/', [v4('127.0.0.1')], policy(['loopback']), self)).toMatchObject({ ok: true });
    expect(check('http://127.0.0.1:8787/', [v4('127.0.0.1')], policy(['loopback', 'self']), self)).toMatchObject({ ok: true });
    expect(check('http://127.0.0.1:8787/', [v4('127.0.0.1')], policy(['self']), self)).toMatchObject({ ok: true });
  });

  it('matches any loopback or unspecified target on the port of a relay listening on 0.0.0.0 or ::', () => {
    const loopback = policy(['loopback']);
    for (const listen of ['0.0.0.0', '::']) {
      const self = [{ address: listen, port: 8787 }];
      expect(check('http://127.0.0.1:8787/', [v4('127.0.0.1')], loopback, self)).toMatchObject({ ok: false, reason: 'self' });
      expect(check('http://127.0.0.2:8787/', [v4('127.0.0.2')], loopback, self)).toMatchObject({ ok: false, reason: 'self' });
      expect(check('http://[::1]:8787/', [v6('::1')], loopback, self)).toMatchObject({ ok: false, reason: 'self' });
      expect(check('http://0.0.0.0:8787/', [v4('0.0.0.0')], loopback, self)).toMatchObject({ ok: false, reason: 'self' });
      expect(check('http://127.0.0.1:9000/', [v4('127.0.0.1')], loopback, self)).toMatchObject({ ok: true });
    }
  });

  it('compares IPv4-mapped addresses as IPv4, on both sides', () => {
    const loopback = policy(['loopback']);
    expect(check('http://[::ffff:7f00:1]:8787/', [v6('::ffff:7f00:1')], loopback, [{ address: '127.0.0.1', port: 8787 }])).toMatchObject({ ok: false, reason: 'self' });
    expect(check('http://127.0.0.1:8787/', [v4('127.0.0.1')], loopback, [{ address: '::ffff:127.0.0.1', port: 8787 }])).toMatchObject({ ok: false, reason: 'self' });
  });

  it('counts the default port of the scheme', () => {
    expect(check('https://relay.internal/', [v4('10.0.0.5')], policy(['private']), [{ address: '10.0.0.5', port: 443 }])).toMatchObject({ ok: false, reason: 'self' });
  });

  it('allows a listed host whatever it resolves to, over http too', () => {
    const listed = parseEgressAllow('metadata.internal, hooks.internal:8080');
    expect(check('http://metadata.internal/', [v4('169.254.169.254')], listed)).toEqual({ ok: true, address: v4('169.254.169.254') });
    expect(check('http://METADATA.internal./', [v4('169.254.169.254')], listed)).toMatchObject({ ok: true });
    expect(check('http://hooks.internal:8080/', [v4('127.0.0.1'), v4('8.8.8.8')], listed)).toMatchObject({ ok: true });
    expect(check('http://hooks.internal:8081/', [v4('127.0.0.1')], listed)).toMatchObject({ ok: false, reason: 'address_refused' });
    expect(check('http://other.internal/', [v4('169.254.169.254')], listed)).toMatchObject({ ok: false, reason: 'address_refused' });
  });

  it('allows a listed IP literal, and still refuses the relay itself on a listed host', () => {
    const listed = parseEgressAllow('169.254.169.254, [::1]:8787');
    expect(check('http://169.254.169.254/latest', [v4('169.254.169.254')], listed)).toMatchObject({ ok: true });
    expect(check('http://[::1]:8787/', [v6('::1')], listed, [{ address: '::1', port: 8787 }])).toMatchObject({ ok: false, reason: 'self' });
  });
});
