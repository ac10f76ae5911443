import type { Event } from '../events/event.js';
import type { TrimResult } from './event-log.js';
import type { GroupStore } from './group-store.js';
import type { LogReader } from './read.js';

/**
 * The narrow set of primitives a backend implements; `StoredEventLog` builds the whole
 * {@link EventLog} contract (ids, dedup rules, cursors, follow, groups) on top, once.
 * Every primitive is synchronous and assumes it runs inside {@link LogStore.transaction}
 * when it writes.
 */
export interface LogStore extends LogReader, GroupStore {
  readonly kind: 'memory' | 'sqlite';
  /** Runs `fn` atomically and exclusively, also against other processes sharing the store. */
  transaction<T>(fn: () => T): T;
  /**
   * An append's transaction, like {@link transaction}, whose flush to disk finishes later:
   * `durable` settles once it has (and rejects if it failed). Absent, or `durable` undefined:
   * `transaction` made it durable already.
   */
  appendTransaction?<T>(fn: () => T): { result: T; durable: Promise<void> | undefined };
  /**
   * While the store asks appends to wait (a checkpoint starting the WAL over, which a commit
   * landing meanwhile would defeat), a promise that settles when they may go on; otherwise
   * undefined. Appends queued meanwhile then commit together.
   */
  appendPause?(): Promise<void> | undefined;
  /**
   * Turns of the event loop a group commit may keep gathering while appends keep coming
   * (default `MAX_GATHER_TURNS`, append-queue.ts). Gathering shares an fsync made on the event
   * loop; a store that flushes off it shares its flushes anyway, and says 1.
   */
  readonly gatherTurns?: number;
  /** The id a dedup key maps to, if the key is within the dedup window. */
  dedupLookup(source: string, sourceEventId: string): string | undefined;
  /** Stores a new event and its dedup key. */
  insert(event: Event, receivedMs: number): void;
  /** Records the last id assigned; {@link LogReader.head} returns it from then on. */
  setHead(id: string): void;
  eventById(id: string): Event | null;
  /** How many events are stored. */
  retainedCount(): number;
  /**
   * Drops the oldest events: those committed before `cutoffMs` (by their id's time) and all
   * but the newest `keep`; and dedup keys older than `dedupCutoffMs`. Remembers the last
   * dropped id (see {@link LogReader.trimmedThrough}).
   */
  trim(cutoffMs: number | undefined, keep: number | undefined, dedupCutoffMs: number): TrimResult;
  /**
   * Calls `onCommit` when another process commits to a shared store, so followers here
   * see its events; returns a stop function. Absent when the store cannot be shared.
   */
  watchForeignCommits?(onCommit: () => void): () => void;
  close(): void;
}
