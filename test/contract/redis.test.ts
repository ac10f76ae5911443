import { describe, it } from 'vitest';
import type { LogOptions } from '../../src/log/log-options.js';
import { RedisEventLog } from '../../src/log/redis/event-log.js';
import { skipRedis, useRedisServer } from '../support/redis-server.js';
import { describeGroupAdminContract } from './group-admin-contract.js';
import { describeGroupContract } from './group-contract.js';
import { describeLogContract } from './log-contract.js';
import { describeReaderContract } from './reader-contract.js';
import { describeRedeliveryContract } from './redelivery-contract.js';

if (skipRedis) {
  describe.skip('EventLog contract (redis): skipped by RELAY_TEST_SKIP_REDIS=1', () => it('runs against redis-server'));
} else {
  const server = useRedisServer();
  let n = 0;
  // Every log gets its own key prefix: a fresh, empty log on the file's one server.
  const factory = (options: LogOptions) => new RedisEventLog({ url: server().url, keyPrefix: `contract-${++n}:`, ...options });
  describeLogContract('redis', factory);
  describeGroupContract('redis', factory);
  describeGroupAdminContract('redis', factory);
  describeRedeliveryContract('redis', factory);
  describeReaderContract('redis', factory);
}
