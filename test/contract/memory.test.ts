import { MemoryEventLog } from '../../src/log/memory/event-log.js';
import { describeGroupAdminContract } from './group-admin-contract.js';
import { describeGroupContract } from './group-contract.js';
import { describeLogContract } from './log-contract.js';
import { describeReaderContract } from './reader-contract.js';
import { describeRedeliveryContract } from './redelivery-contract.js';

const factory = (options: ConstructorParameters<typeof MemoryEventLog>[0]) => new MemoryEventLog(options);
describeLogContract('memory', factory);
describeGroupContract('memory', factory);
describeGroupAdminContract('memory', factory);
describeRedeliveryContract('memory', factory);
describeReaderContract('memory', factory);
