import { deliveryContract } from './contract.js';
import { webhook } from './modes.js';

deliveryContract(webhook);
