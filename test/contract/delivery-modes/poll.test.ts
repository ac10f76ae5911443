import { deliveryContract } from './contract.js';
import { poll } from './modes.js';

deliveryContract(poll);
