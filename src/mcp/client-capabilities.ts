/** Whether a client opted into event delivery: `events`, or `experimental.events` for SDKs that drop unknown keys. */
export function declaresEvents(capabilities: Record<string, unknown> | undefined): boolean {
  const experimental = capabilities?.experimental;
  return (
    (capabilities?.events !== undefined && capabilities.events !== null) ||
    (typeof experimental === 'object' && experimental !== null && 'events' in experimental)
  );
}
