import { describe, expect, it } from 'vitest';
import { formatDuration, formatPercent, statusSettings } from '../../../src/cli/status-format.js';
import { parseSince } from '../../../src/observe/status-report.js';

describe('the status window', () => {
  it.each([
    [undefined, 3_600_000],
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['10s', 10_000],
  ])('reads since=%s', (text, ms) => {
    expect(parseSince(text)).toEqual({ ok: true, ms });
  });

  it.each([
    ['', 'invalid_since'],
    ['1 week', 'invalid_since'],
    ['-1h', 'invalid_since'],
    ['8d', 'since_out_of_range'],
    ['9s', 'since_out_of_range'],
  ])('refuses since=%j with %s', (text, error) => {
    expect(parseSince(text)).toMatchObject({ ok: false, error });
  });
});

describe('status command settings and formatting', () => {
  it('builds the /status URL from --url and --since, the key from the flag or RELAY_TOKEN', () => {
    expect(statusSettings({ url: 'http://relay:1/', since: '24h' }, { RELAY_TOKEN: 'tok' }, 'http://127.0.0.1:8787')).toEqual({
      url: 'http://relay:1/status?since=24h',
      apiKey: 'tok',
      since: '24h',
      json: false,
    });
    expect(statusSettings({ 'api-key': 'flag' }, { RELAY_TOKEN: 'tok' }, 'http://127.0.0.1:8787')).toMatchObject({ url: 'http://127.0.0.1:8787/status?since=1h', apiKey: 'flag' });
    expect(() => statusSettings({ since: '2w' }, {}, 'http://x')).toThrow('--since');
  });

  it('prints durations and rates in units a person reads', () => {
    expect([formatDuration(null), formatDuration(12), formatDuration(1448), formatDuration(90_000), formatDuration(7_200_000)]).toEqual(['—', '12 ms', '1.4 s', '1.5 min', '2.0 h']);
    expect([formatPercent(null), formatPercent(0), formatPercent(0.001), formatPercent(0.5)]).toEqual(['—', '0.0 %', '0.100 %', '50.0 %']);
  });
});
