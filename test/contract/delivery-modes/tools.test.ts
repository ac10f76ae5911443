import { deliveryContract } from './contract.js';
import { tools } from './modes.js';

deliveryContract(tools);
