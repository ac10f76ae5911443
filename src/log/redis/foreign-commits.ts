import type { Redis } from 'ioredis';
import type { AppendNotifier } from '../append-notifier.js';
import type { ReadOptions, ReadResult } from '../event-log.js';

const CATCH_UP_PAGE = 1000;

/**
 * Brings commits made by other instances to this instance's followers. Each commit is
 * announced on a pub/sub channel; on an announcement from elsewhere, ONE read here fetches
 * what is new after the last position this instance has published, and hands it to the
 * followers as a batch — so followers that are caught up take it without a read of their
 * own, however many there are. Followers not at that position read for themselves, as they
 * do for any batch that does not start at their cursor.
 *
 * Each time the subscription is (re)established, followers are told to read: a commit
 * made while it was down was announced to nobody.
 */
export class ForeignCommits {
  #subscriber: Redis | undefined;
  /** The log position followers here were last handed; `undefined` when not known. */
  #seen: string | null | undefined;
  #reading = false;
  #again = false;
  #stopped = false;

  constructor(
    private readonly redis: Redis,
    private readonly channel: string,
    private readonly token: string,
    private readonly notifier: AppendNotifier,
    private readonly read: (options: ReadOptions) => Promise<ReadResult>,
    private readonly head: () => Promise<string | null>,
  ) {}

  /** Subscribes once; later calls do nothing. */
  start(): void {
    if (this.#subscriber || this.#stopped) return;
    // The subscription is made here on every 'ready', with its failure handled; the client's
    // own resubscription would leave a rejected promise nobody awaits when stop() closes the
    // connection before the server answers.
    const subscriber = this.redis.duplicate({ maxRetriesPerRequest: null, commandTimeout: undefined, autoResubscribe: false });
    this.#subscriber = subscriber;
    subscriber.on('error', () => {});
    subscriber.on('message', (_channel: string, token: string) => {
      if (token !== this.token) void this.#catchUp();
    });
    subscriber.on('ready', () => {
      subscriber.subscribe(this.channel).then(
        () => {
          this.#seen = undefined;
          void this.#catchUp();
        },
        () => {},
      );
    });
  }

  /** A commit made here, already handed to the followers with its predecessor `prev`. */
  noteLocal(prev: string | null, last: string): void {
    if (!this.#reading && this.#seen === prev) this.#seen = last;
  }

  stop(): void {
    this.#stopped = true;
    this.#subscriber?.disconnect();
  }

  async #catchUp(): Promise<void> {
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = true;
    try {
      do {
        this.#again = false;
        if (this.#seen === undefined) {
          this.#seen = await this.head();
          this.notifier.publish({ prev: null, events: [] });
        }
        let page: ReadResult;
        do {
          page = await this.read({ after: this.#seen, limit: CATCH_UP_PAGE });
          if (this.#stopped) return;
          if (page.truncated) {
            this.#seen = undefined;
            this.#again = true;
            break;
          }
          if (page.events.length > 0) this.notifier.publish({ prev: this.#seen, events: page.events });
          this.#seen = page.cursor;
        } while (page.hasMore);
      } while (this.#again && !this.#stopped);
    } catch {
      // The store is away: the followers' own reads report it; the next (re)subscription
      // starts over from the head.
      this.#seen = undefined;
    } finally {
      this.#reading = false;
    }
  }
}
