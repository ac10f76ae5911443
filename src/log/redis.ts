export { RedisEventLog, type RedisEventLogOptions } from './redis/redis-event-log.js';
