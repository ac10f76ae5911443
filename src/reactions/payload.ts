import type { Event } from '../events/event.js';

/** Reads of loosely typed payload fields; `null` when absent or of another type. */
export function text(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

export function number(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}

function fieldOf(obj: unknown, name: string): unknown {
  return typeof obj === 'object' && obj !== null && !Array.isArray(obj) ? (obj as Record<string, unknown>)[name] : undefined;
}

/**
 * The first present field among `names`, looked up in the normalized `data`, then the raw
 * payload, then the raw payload's `detail` (Zendesk event subscriptions).
 */
export function pick(event: Event, names: readonly string[]): unknown {
  for (const where of [event.data, event.raw, fieldOf(event.raw, 'detail')]) {
    for (const name of names) {
      const value = fieldOf(where, name);
      if (value !== undefined && value !== null && value !== '') return value;
    }
  }
  return undefined;
}
