/**
 * Who listens to which resource URI, so that a change reaches its listeners by looking the
 * URI up instead of asking every session or stream whether it cares. A listener is whatever
 * the era delivers through: a 2025-11-25 session, a 2026-07-28 `subscriptions/listen` response.
 */
export class ListenerIndex<L> {
  readonly #byUri = new Map<string, Set<L>>();

  add(uri: string, listener: L): void {
    const listeners = this.#byUri.get(uri);
    if (listeners) listeners.add(listener);
    else this.#byUri.set(uri, new Set([listener]));
  }

  delete(uri: string, listener: L): void {
    const listeners = this.#byUri.get(uri);
    if (!listeners?.delete(listener)) return;
    if (listeners.size === 0) this.#byUri.delete(uri);
  }

  listenersOf(uri: string): ReadonlySet<L> {
    return this.#byUri.get(uri) ?? NONE;
  }

  has(uri: string): boolean {
    return this.#byUri.has(uri);
  }

  /** Every URI with at least one listener. */
  uris(): IterableIterator<string> {
    return this.#byUri.keys();
  }
}

const NONE: ReadonlySet<never> = new Set();
