import type { ProviderKind, WebhookProvider } from '../provider.js';
import { githubProvider } from './github.js';
import { mcpEventsProvider } from './mcp-events.js';
import { shopifyProvider } from './shopify.js';
import { standardProvider } from './standard.js';
import { stripeProvider } from './stripe.js';
import { zendeskProvider } from './zendesk.js';

export { githubProvider, mcpEventsProvider, shopifyProvider, standardProvider, stripeProvider, zendeskProvider };

export const webhookProviders: Readonly<Record<ProviderKind, WebhookProvider>> = {
  stripe: stripeProvider,
  shopify: shopifyProvider,
  zendesk: zendeskProvider,
  github: githubProvider,
  standard: standardProvider,
  'mcp-events': mcpEventsProvider,
};
