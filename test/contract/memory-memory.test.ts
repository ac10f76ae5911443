import { MemoryCustomerMemory } from '../../src/memory/memory.js';
import { describeCustomerMemoryContract } from './memory-contract.js';

describeCustomerMemoryContract('memory', (options) => new MemoryCustomerMemory(options));
