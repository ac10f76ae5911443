import type { EventLog } from '../log/event-log.js';
import type { Logger } from './logger.js';
import type { Offender, WindowedStats } from './windowed-stats.js';

export const ALERT_TYPE = 'relay.alert';

export interface DropAlertState {
  /** When the alert was raised (ISO). */
  since: string;
  dropRate: number;
  threshold: number;
  offenders: Offender[];
}

export interface DropAlertOptions {
  stats: WindowedStats;
  log: EventLog;
  logger: Logger;
  /** Drop rate above which the alert is raised (0.001 = 0.1 %). */
  threshold: number;
  windowMs: number;
  now: () => number;
}

/**
 * Raises and clears the drop-rate alert. On each transition it logs one structured warning
 * (or info on clearing) and appends one `relay.alert` event (source `relay`, `data.state`
 * `raised` or `cleared`) so agents and dashboards can subscribe to it. A window in which no
 * event came due has no drop rate and clears the alert.
 */
export class DropAlert {
  #state: DropAlertState | null = null;
  readonly #options: DropAlertOptions;

  constructor(options: DropAlertOptions) {
    this.#options = options;
  }

  /** The raised alert, with offenders and rate as of now; null when clear. */
  get current(): DropAlertState | null {
    if (!this.#state) return null;
    const { stats, windowMs, now } = this.#options;
    const window = stats.dropWindow(windowMs, now());
    return { ...this.#state, dropRate: window.due === 0 ? 0 : window.dropped / window.due, offenders: window.offenders };
  }

  /** Compares the window's drop rate with the threshold and acts on a transition. */
  async evaluate(): Promise<void> {
    const { stats, windowMs, threshold, now, logger } = this.#options;
    const t = now();
    const window = stats.dropWindow(windowMs, t);
    const dropRate = window.due === 0 ? null : window.dropped / window.due;
    const over = dropRate !== null && dropRate > threshold;
    if (over && !this.#state) {
      this.#state = { since: new Date(t).toISOString(), dropRate, threshold, offenders: window.offenders };
      logger.warn({ alert: 'drop_rate', state: 'raised', dropRate, threshold, windowS: windowMs / 1000, offenders: window.offenders }, 'drop rate above threshold');
      await this.#append('raised', this.#state);
    } else if (!over && this.#state) {
      const raised = this.#state;
      this.#state = null;
      logger.info({ alert: 'drop_rate', state: 'cleared', dropRate, threshold, windowS: windowMs / 1000, raisedAt: raised.since }, 'drop rate back under threshold');
      await this.#append('cleared', { ...raised, dropRate: dropRate ?? 0, offenders: [] });
    }
  }

  async #append(state: 'raised' | 'cleared', alert: DropAlertState): Promise<void> {
    const { log, logger, windowMs } = this.#options;
    try {
      await log.append({
        source: 'relay',
        type: ALERT_TYPE,
        sourceType: ALERT_TYPE,
        // One raise and one clear per alert: the raise time names the alert.
        sourceEventId: `drop_rate:${alert.since}:${state}`,
        data: { alert: 'drop_rate', state, raisedAt: alert.since, dropRate: alert.dropRate, threshold: alert.threshold, windowS: windowMs / 1000, offenders: alert.offenders },
        raw: null,
      });
    } catch (error) {
      logger.error({ err: error, state }, 'relay.alert event could not be appended');
    }
  }
}
