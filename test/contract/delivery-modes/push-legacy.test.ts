import { deliveryContract } from './contract.js';
import { pushLegacy } from './modes.js';

deliveryContract(pushLegacy);
