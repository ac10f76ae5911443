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

export function seconds(s) {
  return s >= 3600 ? `${s / 3600} h` : s >= 60 ? `${s / 60} min` : `${s} s`;
}

export function timeOfDay(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}
