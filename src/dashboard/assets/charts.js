// Small line charts drawn on <canvas>: no chart library, nothing fetched from elsewhere.

/** The page's palette (light or dark), read from CSS so the charts follow the theme. */
export function seriesColor(index) {
  return cssVar(`--series-${(index % 6) + 1}`);
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** 1, 2, 5 × 10^n at or above `value`, so the axis reads in round numbers. */
function niceCeiling(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
}

/**
 * Draws `series` ([{ label, values: (number|null)[] }]) against the shared `times` (ms).
 * Gaps (null) break a line rather than dropping it to zero.
 */
export function drawLineChart(canvas, { times, series, format = String }) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);

  const pad = { left: 44, right: 8, top: 8, bottom: 20 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const all = series.flatMap((s) => s.values).filter((v) => typeof v === 'number');
  const top = niceCeiling(Math.max(0, ...all));
  const x = (i) => pad.left + (times.length < 2 ? plotW : (i / (times.length - 1)) * plotW);
  const y = (v) => pad.top + plotH - (v / top) * plotH;

  g.font = '11px system-ui, sans-serif';
  g.fillStyle = cssVar('--muted');
  g.strokeStyle = cssVar('--grid');
  g.lineWidth = 1;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const fraction of [0, 0.5, 1]) {
    const yy = Math.round(y(top * fraction)) + 0.5;
    g.beginPath();
    g.moveTo(pad.left, yy);
    g.lineTo(width - pad.right, yy);
    g.stroke();
    g.fillText(format(top * fraction), pad.left - 6, yy);
  }
  if (times.length === 0) {
    g.textAlign = 'center';
    g.fillText('no data in this window yet', pad.left + plotW / 2, pad.top + plotH / 2);
    return;
  }
  g.textBaseline = 'alphabetic';
  g.textAlign = 'left';
  g.fillText(clock(times[0]), pad.left, height - 4);
  g.textAlign = 'right';
  g.fillText(clock(times[times.length - 1]), width - pad.right, height - 4);

  g.lineWidth = 2;
  g.lineJoin = 'round';
  series.forEach((s, index) => {
    g.strokeStyle = seriesColor(index);
    g.fillStyle = g.strokeStyle;
    g.beginPath();
    const has = (i) => typeof s.values[i] === 'number';
    s.values.forEach((v, i) => {
      if (!has(i)) return;
      if (has(i - 1)) g.lineTo(x(i), y(v));
      else g.moveTo(x(i), y(v));
      // A value between two gaps has no line to show it: draw it as a dot.
      if (!has(i - 1) && !has(i + 1)) g.fillRect(x(i) - 2, y(v) - 2, 4, 4);
    });
    g.stroke();
  });
}

/** The HTML legend under a chart: what a screen reader reads instead of the canvas. */
export function renderLegend(list, entries) {
  list.replaceChildren(
    ...entries.map((entry, index) => {
      const item = document.createElement('li');
      item.className = `s${(index % 6) + 1}`;
      item.textContent = entry;
      return item;
    }),
  );
}
