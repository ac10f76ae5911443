import { MemoryCustomerMemory } from '../../src/customer-memory/memory/customer-memory.js';
import { describeCustomerMemoryContract } from './customer-memory-contract.js';

describeCustomerMemoryContract('memory', (options) => new MemoryCustomerMemory(options));
