import type { Redis } from 'ioredis';

/**
 * The Lua scripts of the Redis subscription store, as source text in this module so the
 * build carries them. Each runs as one atomic step on the server. A subscription's hash
 * holds every field JSON-encoded; `fields` arguments are a JSON object of field name to
 * JSON-encoded value.
 */
const SCRIPTS = {
  /**
   * Creates the subscription from `fresh` when its hash does not exist, otherwise writes
   * `refresh` onto it.
   * KEYS[1] its hash   KEYS[2] ids (sorted set, all scores 0)   KEYS[3] principals (hash: principal -> count)
   * ARGV[1] id   ARGV[2] principal   ARGV[3] fresh fields   ARGV[4] refresh fields
   * Returns { 1 when created else 0, the hash as HGETALL lists it }
   */
  upsert: {
    numberOfKeys: 3,
    lua: `
local created = redis.call('EXISTS', KEYS[1]) == 0
for field, value in pairs(cjson.decode(created and ARGV[3] or ARGV[4])) do
  redis.call('HSET', KEYS[1], field, value)
end
if created then
  redis.call('ZADD', KEYS[2], 0, ARGV[1])
  redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
end
return { created and 1 or 0, redis.call('HGETALL', KEYS[1]) }
`,
  },
  /**
   * Writes fields onto an existing subscription, with an owner only while it holds the lease.
   * KEYS[1] its hash   KEYS[2] its lease
   * ARGV[1] fields   ARGV[2] '1' when fenced by the lease, else '0'   ARGV[3] the owner
   * Returns 1 when written, 0 when the hash does not exist or the owner does not hold the lease
   */
  update: {
    numberOfKeys: 2,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] == '1' and redis.call('GET', KEYS[2]) ~= ARGV[3] then return 0 end
for field, value in pairs(cjson.decode(ARGV[1])) do
  redis.call('HSET', KEYS[1], field, value)
end
return 1
`,
  },
  /**
   * Deletes a subscription, its lease, its id and its count against its principal.
   * KEYS[1] its hash   KEYS[2] ids   KEYS[3] principals   KEYS[4] its lease
   * ARGV[1] id
   * Returns 1 when it existed, else 0
   */
  remove: {
    numberOfKeys: 4,
    lua: `
local principal = redis.call('HGET', KEYS[1], 'principal')
redis.call('DEL', KEYS[4])
if not principal then return 0 end
principal = cjson.decode(principal)
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('HINCRBY', KEYS[3], principal, -1) <= 0 then redis.call('HDEL', KEYS[3], principal) end
return 1
`,
  },
  /**
   * Takes the lease of an existing subscription, or renews it for the owner holding it.
   * KEYS[1] its hash   KEYS[2] its lease
   * ARGV[1] owner   ARGV[2] ttl (ms)
   * Returns 1 when the owner holds the lease for ttl from now, else 0
   */
  claim: {
    numberOfKeys: 2,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
`,
  },
  /**
   * Deletes the lease if the owner holds it.
   * KEYS[1] the lease
   * ARGV[1] owner
   * Returns 1 when deleted, else 0
   */
  release: {
    numberOfKeys: 1,
    lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`,
  },
} as const;

export type SubscriptionScript = keyof typeof SCRIPTS;
export type RunSubscriptionScript = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

/** Defines the scripts on a connection (EVALSHA, reloaded by ioredis after a server restart). */
export function defineSubscriptionScripts(redis: Redis): Record<SubscriptionScript, RunSubscriptionScript> {
  const commands = redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>;
  const runners = {} as Record<SubscriptionScript, RunSubscriptionScript>;
  for (const [name, { numberOfKeys, lua }] of Object.entries(SCRIPTS) as [SubscriptionScript, (typeof SCRIPTS)[SubscriptionScript]][]) {
    const command = `relay_webhook_${name}`;
    redis.defineCommand(command, { numberOfKeys, lua });
    runners[name] = (keys, args) => {
      if (keys.length !== numberOfKeys) throw new Error(`script ${name} takes ${numberOfKeys} keys`);
      return commands[command]!(...keys, ...args);
    };
  }
  return runners;
}
