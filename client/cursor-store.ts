/**
 * Keeps a subscription's resume point. The client saves a cursor only after every event
 * up to it was handled (or skipped after onEvent kept failing), so a restarted agent that
 * loads it neither loses nor repeats events. Saves of one subscription never overlap.
 */
export interface CursorStore {
  load(): Promise<string | undefined>;
  save(cursor: string): Promise<void>;
}

/** The default: lives as long as the process. */
export function memoryCursorStore(initial?: string): CursorStore & { readonly cursor: string | undefined } {
  let cursor = initial;
  return {
    get cursor() {
      return cursor;
    },
    load: async () => cursor,
    save: async (next) => {
      cursor = next;
    },
  };
}
