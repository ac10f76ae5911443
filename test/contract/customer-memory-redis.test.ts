import { describe, it } from 'vitest';
import { RedisCustomerMemory } from '../../src/customer-memory/redis/customer-memory.js';
import { skipRedis, useRedisServer } from '../support/redis-server.js';
import { describeCustomerMemoryContract } from './customer-memory-contract.js';

if (skipRedis) {
  describe.skip('CustomerMemory contract (redis): skipped by RELAY_TEST_SKIP_REDIS=1', () => it('runs against redis-server'));
} else {
  const server = useRedisServer();
  let n = 0;
  describeCustomerMemoryContract('redis', (options) => new RedisCustomerMemory({ url: server().url, keyPrefix: `memory-${++n}:`, ...options }));
}
