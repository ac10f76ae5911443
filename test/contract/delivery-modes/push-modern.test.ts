import { deliveryContract } from './contract.js';
import { pushModern } from './modes.js';

deliveryContract(pushModern);
