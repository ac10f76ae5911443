/**
 * mcp-event-relay as a library (`import { … } from 'mcp-event-relay'`), named exports only:
 *
 * - the event log: the {@link EventLog} contract (its TSDoc is the contract every backend
 *   passes), its types, and the three backends: {@link MemoryEventLog} (no durability, for
 *   tests and demos), {@link SqliteEventLog} (one file, the default) and {@link RedisEventLog}
 *   (several relay instances sharing one log);
 * - the relay: `startRelay(loadConfig(env, argv), createLogger(level))` starts what
 *   `mcp-event-relay serve` starts, configured by the same variables;
 * - reactions: the types a `RELAY_HANDLERS` module is written against ({@link ReactionHandler},
 *   its context, the customer memory it writes);
 * - events and filters: {@link Event} as stored, {@link NewEvent} as appended, {@link EventFilter}.
 *
 * The companion client is the other entry point, `mcp-event-relay/client`.
 */
export type { Event, NewEvent } from './events/event.js';
export type { EventFilter } from './events/filter.js';
export { LOG_START } from './events/ulid.js';

export type {
  AppendResult,
  ClaimedEvent,
  ClaimOptions,
  CreateGroupOptions,
  DeadLetter,
  DeadLetterSelection,
  DeliveryRef,
  EventDelivery,
  EventLog,
  GroupCounts,
  GroupState,
  ReadOptions,
  ReadResult,
  RetentionPolicy,
  SerializedEvent,
  SerializedReadResult,
  TrimResult,
} from './log/event-log.js';
export type { AppendBatch, AppendListener } from './log/append-notifier.js';
export { LogError, type LogErrorCode } from './log/log-error.js';
export type { LogOptions } from './log/log-options.js';
export { MemoryEventLog } from './log/memory/event-log.js';
export { SqliteEventLog, type SqliteEventLogOptions } from './log/sqlite/event-log.js';
export type { SqliteSynchronous } from './log/sqlite/connection.js';
export { RedisEventLog, type RedisEventLogOptions } from './log/redis/event-log.js';

export { startRelay, type Relay } from './app.js';
export { ConfigError, loadConfig, type RelayConfig, type StoreConfig, type WebhookSourceConfig } from './config.js';
export { createLogger, type Logger, type LogLevel } from './observe/logger.js';

export type { EmitOptions, ReactionContext, ReactionHandler } from './reactions/handler.js';
export {
  type ContextChange,
  type ContextChangeListener,
  type CustomerContext,
  type CustomerMemory,
  type Fact,
  type FactRecord,
  type FactSource,
  MemoryError,
  type MemoryErrorCode,
  type UpsertOutcome,
} from './customer-memory/customer-memory.js';
