import { CLIENT_MODES, type ClientMode } from './options.js';

/**
 * The default mode: `RELAY_CLIENT_MODE` (`auto`, `push`, `poll` or `tools`), else `auto`.
 * The only place the client reads the environment; pass `mode` to ignore it.
 */
export function modeFromEnv(env: NodeJS.ProcessEnv = process.env): ClientMode {
  const value = env.RELAY_CLIENT_MODE?.trim().toLowerCase();
  if (!value) return 'auto';
  if ((CLIENT_MODES as readonly string[]).includes(value)) return value as ClientMode;
  throw new Error(`RELAY_CLIENT_MODE must be one of ${CLIENT_MODES.join(', ')}, not "${value}"`);
}
