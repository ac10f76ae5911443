import { afterAll, beforeAll, describe, it } from 'vitest';
import { RedisCustomerMemory } from '../../src/memory/redis.js';
import { type RedisTestServer, skipRedis, startRedisServer } from '../support/redis-server.js';
import { describeCustomerMemoryContract } from './memory-contract.js';

if (skipRedis) {
  describe.skip('CustomerMemory contract (redis): skipped by RELAY_TEST_SKIP_REDIS=1', () => it('runs against redis-server'));
} else {
  let server: RedisTestServer;
  let n = 0;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server?.stop());

  describeCustomerMemoryContract('redis', (options) => new RedisCustomerMemory({ url: server.url, keyPrefix: `memory-${++n}:`, ...options }));
}
