import type express from 'express';
import { isAdmin, principalOf } from '../http/access.js';
import type { EventLog } from '../log/event-log.js';
import { groupUris } from './resource-uris.js';
import { forbiddenGroup, limitReached } from './wire-errors.js';

/** Consumer groups belong to principals: `alice` owns `alice` and `alice/<anything>`. */
export function ownsGroup(principal: string, group: string): boolean {
  return group === principal || group.startsWith(`${principal}/`);
}

/** The group a principal names (by default its own), or -32012 for another principal's. */
export function ownedGroup(principal: string, group: string | undefined): string {
  const name = group ?? principal;
  if (!ownsGroup(principal, name)) throw forbiddenGroup(name);
  return name;
}

/**
 * Which consumer groups a request may see in the operator views (`/metrics`, `/status`) and the
 * operator API: its principal's own; every group for an admin (a principal in
 * `RELAY_ADMIN_PRINCIPALS`, a token with `relay:admin`, anyone on an open relay).
 */
export function groupScope(req: express.Request): (group: string) => boolean {
  if (isAdmin(req.auth)) return () => true;
  const principal = principalOf(req.auth);
  return (group) => ownsGroup(principal, group);
}

/** How many of a full principal's least recently used names one attempt to make room examines. */
const SCAN_BATCH = 16;

export interface GroupRegistryOptions {
  log: Pick<EventLog, 'pending'>;
  /** `RELAY_MAX_GROUPS_PER_PRINCIPAL`: names one principal may have in use besides its own group. */
  perPrincipal: number;
  /** The configured principals, whose own groups are always known. */
  principals: Iterable<string>;
}

/**
 * The consumer group names agents use: what the operator views report, and the bound on how
 * many names one principal may create. A name is registered by a claim from it (a claim
 * creates the group in the log); each principal's own group is not counted, and is always known:
 * a configured principal's from the start, an access token's principal's from its first claim.
 *
 * A principal at the bound gets room by forgetting names that are idle and empty: nothing
 * pending (so nothing leased either) and nobody listening to their `events://` URI, in either
 * spelling the relay has published (`groupUris`). Forgetting is this registry's alone: the
 * log keeps the group's position and dead letters, and a later claim from the name registers
 * it again. Commits do not read the registry: they reach listeners through the listener
 * indexes.
 */
export class GroupRegistry {
  readonly #defaults: Set<string>;
  /** Per principal, its names from least to most recently used, each with the number of its last use. */
  readonly #byPrincipal = new Map<string, Map<string, number>>();
  #uses = 0;
  #listened: (uri: string) => boolean = () => false;

  constructor(private readonly options: GroupRegistryOptions) {
    this.#defaults = new Set(options.principals);
  }

  /** Where listeners are looked up (the MCP endpoint, built after this). */
  watchListeners(listened: (uri: string) => boolean): void {
    this.#listened = listened;
  }

  /**
   * The group `principal` asked for (its own when `group` is undefined), registered as in
   * use. Another principal's group is refused with -32012; a new name past the bound, when no
   * idle empty name can be forgotten, with -32013 `{ limit: "groups", max }`.
   */
  async use(principal: string, group: string | undefined): Promise<string> {
    const name = ownedGroup(principal, group);
    if (name === principal) {
      this.#defaults.add(principal);
      return name;
    }
    let names = this.#byPrincipal.get(principal);
    if (!names) this.#byPrincipal.set(principal, (names = new Map()));
    const full = () => !names.has(name) && names.size >= this.options.perPrincipal;
    if (full()) await this.#makeRoom(names);
    if (full()) {
      const max = this.options.perPrincipal;
      throw limitReached({
        limit: 'groups',
        max,
        message: `at most ${max} consumer groups per principal are in use; a group is forgotten once nothing is pending in it and nobody listens to it — ack what a group holds, or reuse a name`,
      });
    }
    names.delete(name);
    names.set(name, ++this.#uses);
    return name;
  }

  /**
   * Looks at the least recently used few names: forgets the idle empty ones and moves the
   * others to the back, so that successive attempts examine every name in turn.
   */
  async #makeRoom(names: Map<string, number>): Promise<void> {
    const batch: [string, number][] = [];
    for (const entry of names) {
      if (batch.push(entry) === SCAN_BATCH) break;
    }
    for (const [name, use] of batch) {
      const idle = !groupUris(name).some((uri) => this.#listened(uri)) && (await this.options.log.pending(name)).pending === 0;
      // A name used while its count was read is in use, whatever the count said.
      if (names.get(name) !== use) continue;
      names.delete(name);
      if (!idle) names.set(name, use);
    }
  }

  /** Every known name: the principals' own groups, then the names in use. */
  *names(): IterableIterator<string> {
    yield* this.#defaults;
    for (const names of this.#byPrincipal.values()) yield* names.keys();
  }
}
