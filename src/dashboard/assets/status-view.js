import { drawLineChart, renderLegend } from './charts.js';
import { $, cell, fillTable, setText } from './dom.js';
import { count, duration, latencyText, percent, seconds, timeOfDay } from './format.js';

/** A small bar and the rate beside it, red below 90 %. */
function rateBar(rate) {
  const wrap = document.createElement('span');
  const bar = document.createElement('span');
  bar.className = typeof rate === 'number' && rate < 0.9 ? 'bar low' : 'bar';
  const fill = document.createElement('span');
  fill.style.width = `${Math.round((rate ?? 0) * 100)}%`;
  bar.append(fill);
  wrap.append(bar, percent(rate, 1));
  return wrap;
}

/** A headline percentile; one beyond the latency bins reads "overflow", in a smaller type that fits the tile. */
function setLatency(id, report, key) {
  const text = latencyText(report, key);
  setText(id, text);
  $(id).classList.toggle('beyond', text === 'overflow');
  $(id).title = text === 'overflow' ? 'later than the largest latency bin: no value to show' : '';
}

export function renderUnavailable(message) {
  const health = $('health');
  health.dataset.state = 'unavailable';
  health.textContent = message;
  for (const id of ['received', 'processed', 'drop-rate', 'success-rate', 'delivery-p95', 'cb-active', 'cb-delivered', 'cb-p50']) setText(id, '–');
  $('alert').hidden = true;
}

/** Everything but the live list, from one `GET /status` answer. */
export function renderStatus(status) {
  const alerting = status.status === 'alert';
  const health = $('health');
  health.dataset.state = alerting ? 'alert' : 'ok';
  health.textContent = alerting ? 'ALERT · events are being dropped' : 'ok · no drops';
  setText('store-line', `store ${status.store} · head ${status.head ?? '—'} · window ${seconds(status.windowS)}`);

  const hooks = status.webhooks ?? {};
  setText('received', count(hooks.received));
  setText('received-detail', `${count(hooks.accepted)} accepted · ${count(hooks.duplicate)} dup · ${count(hooks.rejected)} rejected`);

  const events = status.events ?? {};
  setText('processed', count(events.processed));
  setText('processed-detail', `of ${count(events.accepted)} accepted · ${count(events.dropped)} dropped`);
  renderDropRate(events, alerting);
  renderAlert(status.alert);

  const reactions = status.reactions ?? { byHandler: {} };
  const handlers = Object.entries(reactions.byHandler ?? {});
  setText('success-rate', percent(reactions.successRate, 1));
  setText('success-detail', handlers.length === 0 ? 'no reactions in this window' : `${handlers.length} handler${handlers.length === 1 ? '' : 's'}`);
  fillTable(
    'handlers',
    handlers.map(([name, h]) => [cell(name), cell(rateBar(h.successRate)), cell(count(h.succeeded), 'num'), cell(count(h.failed), h.failed > 0 ? 'num dead' : 'num'), cell(count(h.skipped), 'num')]),
    5,
    'no reactions yet',
  );

  const delivery = status.latencyMs?.delivery ?? {};
  setLatency('delivery-p95', delivery, 'p95');
  setText('latency-detail', `p50 ${latencyText(delivery, 'p50')} · processing p99 ${latencyText(status.latencyMs?.processing, 'p99')}`);

  fillTable(
    'groups',
    Object.entries(status.groups ?? {}).map(([name, g]) => [cell(name), cell(count(g.pending), 'num'), cell(count(g.leased), 'num'), cell(count(g.deadLettered), g.deadLettered > 0 ? 'num dead' : 'num')]),
    4,
    'no consumer groups yet',
  );
  fillTable('streams', Object.entries(status.streams ?? {}).map(([era, n]) => [cell(era), cell(count(n), 'num')]), 2, 'none');
  renderCallbacks(status.callbacks ?? {});
  renderCharts(status.series);
}

/** Outbound webhook delivery: subscriptions now (relay-wide), the rest over the window. */
function renderCallbacks(callbacks) {
  const subscriptions = callbacks.subscriptions ?? {};
  setText('cb-active', `${count(subscriptions.active)} active`);
  setText('cb-suspended', `${count(subscriptions.suspended)} suspended`);
  $('cb-suspended').classList.toggle('dead', subscriptions.suspended > 0);
  setText('cb-delivered', count(callbacks.delivered));
  setText('cb-attempts', `${count(callbacks.attempts)} attempts · ${count(callbacks.abandoned)} abandoned`);
  const latency = callbacks.latencyMs ?? {};
  setLatency('cb-p50', latency, 'p50');
  setText('cb-p99', `p99 ${latencyText(latency, 'p99')} · ${count(latency.count)} events`);
  const byCount = (counts) => Object.entries(counts ?? {}).sort(([, a], [, b]) => b - a);
  fillTable('cb-failures', byCount(callbacks.failures).map(([category, n]) => [cell(category), cell(count(n), 'num dead')]), 2, 'no failures');
  fillTable('cb-ended', byCount(callbacks.ended).map(([reason, n]) => [cell(reason), cell(count(n), 'num')]), 2, 'none ended');
}

/** The gauge spans twice the threshold, so the threshold mark sits in its middle. */
function renderDropRate(events, alerting) {
  setText('drop-rate', percent(events.dropRate));
  const threshold = events.threshold ?? 0.001;
  const share = Math.min(1, (events.dropRate ?? 0) / (2 * threshold));
  $('drop-fill').style.width = `${share * 100}%`;
  const gauge = $('drop-gauge');
  gauge.setAttribute('aria-valuenow', String(Math.round(share * 100)));
  gauge.setAttribute('aria-valuetext', `${percent(events.dropRate)} of ${percent(threshold)} allowed`);
  $('drop-tile').classList.toggle('alerting', alerting);
  setText('drop-detail', `alert above ${percent(threshold)}${events.dropRate === null ? ' · nothing due yet' : ''}`);
  $('drop-detail').title = `an event counts as dropped when no consumer took it within ${seconds(events.deadlineS ?? 0)}`;
}

function renderAlert(alert) {
  const banner = $('alert');
  banner.hidden = !alert;
  if (!alert) return;
  const list = document.createElement('ul');
  for (const offender of alert.offenders ?? []) {
    const item = document.createElement('li');
    item.textContent = `${offender.source} ${offender.type}: ${count(offender.dropped)} dropped`;
    list.append(item);
  }
  banner.replaceChildren(`Drop rate ${percent(alert.dropRate)} is above ${percent(alert.threshold)} since ${timeOfDay(alert.since)} —`, list);
}

let lastSeries;

/** Redraws from the last answer (also on resize and theme change). */
export function renderCharts(series = lastSeries) {
  lastSeries = series;
  const points = series?.points ?? [];
  const times = points.map((p) => Date.parse(p.t));
  const perMinute = 60 / (series?.bucketS || 60);
  const sources = [...new Set(points.flatMap((p) => Object.keys(p.bySource ?? {})))].sort();
  drawLineChart($('rates-chart'), {
    times,
    series: sources.map((source) => ({ label: source, values: points.map((p) => (p.bySource?.[source] ?? 0) * perMinute) })),
    format: (v) => (v >= 10 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')),
  });
  renderLegend($('rates-legend'), sources.length > 0 ? sources.map((s) => `${s} /min`) : []);
  const latency = [
    ['delivery p50', 'deliveryP50'],
    ['delivery p95', 'deliveryP95'],
    ['processing p99', 'processingP99'],
  ];
  drawLineChart($('latency-chart'), {
    times,
    series: latency.map(([label, key]) => ({ label, values: points.map((p) => p[key] ?? null) })),
    format: (v) => duration(v, ''),
  });
  renderLegend($('latency-legend'), latency.map(([label]) => label));
}
