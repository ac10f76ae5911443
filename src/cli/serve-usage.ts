/** The store forms `--store` (`RELAY_STORE`) takes, as `serve`'s usage lines show them. */
export const STORE_FORMS = 'sqlite:<path>|memory|redis://host:port';

/** `serve --help`. */
export const SERVE_USAGE = `usage: mcp-event-relay serve [--host H] [--port P] [--store ${STORE_FORMS}]

Runs the relay: webhooks in at POST /webhooks/<source>, agents on /mcp, operators on
/status, /metrics, /dashboard and the operator API.

  --host H      address to bind (HOST; default 127.0.0.1: anything else needs RELAY_API_KEYS)
  --port P      port to bind, 0 for any free port (PORT; default 8787)
  --store S     where the event log lives (RELAY_STORE; default sqlite:./data/relay.db):
                  sqlite:<path>   one file, created on first start; fsynced per commit
                                  unless RELAY_SQLITE_SYNCHRONOUS=normal
                  memory          nothing survives a restart
                  redis://[user:password@]host[:port][/db] (rediss:// for TLS)
                                  one log shared by several relays; needs appendonly yes,
                                  appendfsync always and maxmemory-policy noeviction (checked
                                  at start: a warning, or a refusal with
                                  RELAY_REDIS_REQUIRE_DURABLE=1)

Flags win over the environment. Every other setting is an environment variable (sources'
webhook secrets, API keys, limits, retention, …): see README.md, Configuration.`;
