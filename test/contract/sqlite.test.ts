import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { LogOptions } from '../../src/log/log-options.js';
import { SqliteEventLog } from '../../src/log/sqlite/event-log.js';
import { describeGroupAdminContract } from './group-admin-contract.js';
import { describeGroupContract } from './group-contract.js';
import { describeLogContract } from './log-contract.js';
import { describeReaderContract } from './reader-contract.js';
import { describeRedeliveryContract } from './redelivery-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'relay-contract-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const factory = (options: LogOptions) => new SqliteEventLog({ path: join(dir, `log-${++n}.db`), ...options });
describeLogContract('sqlite', factory);
describeGroupContract('sqlite', factory);
describeGroupAdminContract('sqlite', factory);
describeRedeliveryContract('sqlite', factory);
describeReaderContract('sqlite', factory);
