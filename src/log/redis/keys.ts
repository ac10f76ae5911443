/** Where one log keeps its state on the server; every name starts with the key prefix. */
export interface RedisKeys {
  /** Hash: `head` (last id assigned), `pos` (its position), `trimmed`/`trimmedPos` (last trimmed). */
  meta: string;
  /**
   * Stream of events, entry id `<pos>-0`, one field `e`: `["<id>","<type>","<source>"(,"<subject>")]`,
   * a newline, then the event's JSON. One field rather than five: replay speed is bound by
   * the number of strings a reply carries.
   */
  events: string;
  /** Hash: event id → position, for retained events. */
  ids: string;
  /** Hash: `source NUL sourceEventId` → event id, for the dedup window. */
  dedup: string;
  /** Sorted set: dedup keys scored by when they were received. */
  dedupAt: string;
  /** Hash: group name → floor position. */
  groups: string;
  /** Followed by a group name: hash of position → `state count leaseUntil deadAt`. */
  deliveriesPrefix: string;
  /** Followed by a group name: sorted set of the positions at or below its floor made pending again (scored by position). */
  requeuedPrefix: string;
  /** Pub/sub channel announcing commits, with the committing instance's token. */
  commits: string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    meta: `${prefix}log:meta`,
    events: `${prefix}log:events`,
    ids: `${prefix}log:ids`,
    dedup: `${prefix}log:dedup`,
    dedupAt: `${prefix}log:dedup-at`,
    groups: `${prefix}log:groups`,
    deliveriesPrefix: `${prefix}log:deliveries:`,
    requeuedPrefix: `${prefix}log:requeued:`,
    commits: `${prefix}log:commits`,
  };
}
