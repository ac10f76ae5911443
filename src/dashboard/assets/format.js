// How numbers read on the page.

export function count(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : '–';
}

export function percent(rate, digits = 2) {
  if (typeof rate !== 'number') return '–';
  const value = rate * 100;
  return `${value === 0 || value >= 10 ? value.toFixed(0) : value.toFixed(digits).replace(/\.?0+$/, '')} %`;
}

const UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['min', 60_000],
  ['s', 1000],
];

/** `850 ms`, `1.2 s`, `14 min`, `3.5 h`, `41 d`: two significant figures at most. */
export function duration(ms, separator = ' ') {
  if (typeof ms !== 'number') return '–';
  const [unit, size] = UNITS.find(([, size]) => ms >= size) ?? ['ms', 1];
  const value = ms / size;
  return `${value < 10 && unit !== 'ms' ? value.toFixed(1).replace(/\.0$/, '') : Math.round(value)}${separator}${unit}`;
}

/**
 * A percentile of a `/status` latency report. One beyond the largest latency bin (~35 days)
 * has no value, only the report's `overflow`: shown as such, never as a number.
 */
export function latencyText(report, key) {
  const ms = report?.[key];
  return typeof ms !== 'number' && report?.overflow ? 'overflow' : duration(ms);
}

export function seconds(s) {
  return s >= 3600 ? `${s / 3600} h` : s >= 60 ? `${s / 60} min` : `${s} s`;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** When an event id (a ULID) was minted, in ms since the epoch: its first 10 characters. */
export function idTime(id) {
  let ms = 0;
  for (const char of id.slice(0, 10)) ms = ms * 32 + CROCKFORD.indexOf(char);
  return ms;
}

/** `2026-12-07 10:00:03` in the viewer's time zone; `''` for no time. */
export function dateTime(value) {
  if (value === null || value === undefined) return '';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${timeOfDay(date)}`;
}

export function timeOfDay(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}
