/**
 * The Events extension's identifier under the `extensions` capability (SEP-2133): reverse-DNS,
 * as other Events implementations spell it. The draft has assigned none yet.
 */
export const EVENTS_EXTENSION_ID = 'io.modelcontextprotocol/events';

/**
 * Whether a client opted into event delivery: `events`, `experimental.events` for SDKs that
 * drop unknown keys, or `extensions["io.modelcontextprotocol/events"]`.
 */
export function declaresEvents(capabilities: Record<string, unknown> | undefined): boolean {
  const declared = (holder: unknown, key: string) => typeof holder === 'object' && holder !== null && key in holder;
  return (
    (capabilities?.events !== undefined && capabilities.events !== null) ||
    declared(capabilities?.experimental, 'events') ||
    declared(capabilities?.extensions, EVENTS_EXTENSION_ID)
  );
}
