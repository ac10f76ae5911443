import { parseArgs } from 'node:util';
import { ApiFailure, apiRequest, type RelayAccess, relayBase } from './operator-api.js';
import { EVENTS_SUBCOMMANDS } from './operator-events.js';
import { DLQ_SUBCOMMANDS, GROUPS_SUBCOMMANDS, REPLAY_COMMAND } from './operator-groups.js';
import { FlagError, type FlagValues, type Subcommand } from './operator-spec.js';

/**
 * `events`, `groups`, `dlq` and `replay`: the operator API (`GET /events`, `/groups…`,
 * dead letters, `/replay`) from a shell. Plain HTTP to a running relay with the same access
 * as `tail` and `status` (`--url`, `--token` or `RELAY_TOKEN`); tables for people, the API's
 * JSON as it is with `--json`.
 */

export type OperatorCommand = 'events' | 'groups' | 'dlq' | 'replay';

/** What the commands read and write besides their arguments. */
export interface OperatorIo {
  env: NodeJS.ProcessEnv;
  /** The relay on HOST/PORT, asked only when `--url` is not given. */
  defaultUrl(): string;
  out(text: string): void;
  err(text: string): void;
  now(): number;
}

/** Each command's subcommands; `replay` has none. */
const COMMANDS: Record<Exclude<OperatorCommand, 'replay'>, Record<string, Subcommand>> = {
  events: EVENTS_SUBCOMMANDS,
  groups: GROUPS_SUBCOMMANDS,
  dlq: DLQ_SUBCOMMANDS,
};

const COMMON_FLAGS = { url: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

const COMMON_HELP = `  --url URL        the relay (default: HOST and PORT, http://127.0.0.1:8787)
  --token T        the relay's API key (default: RELAY_TOKEN)
  --json           the relay's JSON answer as it is, for scripts
  -h, --help       this text

Exit status: 0 done; 1 the relay refused (its reason on stderr, one line; 403 means the
command needs an admin, a principal in RELAY_ADMIN_PRINCIPALS) or could not be reached;
2 a command line it cannot run.`;

/** The help of one subcommand. */
function subcommandUsage(spec: Subcommand): string {
  return `usage: mcp-event-relay ${spec.synopsis}\n         [--url URL] [--token T] [--json]\n\n${spec.help}\n\n${COMMON_HELP}`;
}

/** The help of a command: its subcommands, one line each. */
function commandUsage(command: OperatorCommand): string {
  if (command === 'replay') return subcommandUsage(REPLAY_COMMAND);
  const specs = COMMANDS[command];
  const lines = Object.values(specs).map((spec) => `  mcp-event-relay ${spec.synopsis}\n        ${spec.summary}`);
  return `usage: mcp-event-relay ${command} <subcommand> [options] [--url URL] [--token T] [--json]\n\n${lines.join('\n')}\n\nmcp-event-relay ${command} <subcommand> --help says more of each.\n\n${COMMON_HELP}`;
}

/** The subcommand argv names and the rest of argv; a FlagError when it names none this command has. */
function pick(command: OperatorCommand, argv: string[]): { spec: Subcommand; name: string; rest: string[] } | 'help' {
  if (command === 'replay') return { spec: REPLAY_COMMAND, name: command, rest: argv };
  const specs = COMMANDS[command];
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h') return 'help';
  const names = Object.keys(specs).join(', ');
  if (name === undefined || name.startsWith('-')) throw new FlagError(`needs a subcommand: ${names}`);
  const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
  if (spec === undefined) throw new FlagError(`has no subcommand "${name.slice(0, 40)}"; it has ${names}`);
  return { spec, name: `${command} ${name}`, rest };
}

/** The flags and arguments of a subcommand's command line; a FlagError for what parseArgs refuses. */
function parse(spec: Subcommand, argv: string[]): { flags: FlagValues & { url?: string; token?: string; json?: boolean; help?: boolean }; args: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...COMMON_FLAGS, ...spec.flags }, allowPositionals: true });
    return { flags: values, args: positionals };
  } catch (error) {
    // Its first sentence: "Unknown option '--colour'".
    throw new FlagError((error as Error).message.split('. ')[0]!);
  }
}

/**
 * Runs one operator command line and resolves with its exit status: 0 done, 1 the relay
 * refused or could not be reached, 2 a command line it cannot run. Each failure is one
 * stderr line; anything else (a bad configuration) is thrown.
 */
export async function runOperator(command: OperatorCommand, argv: string[], io: OperatorIo): Promise<number> {
  let name: string = command;
  try {
    const picked = pick(command, argv);
    if (picked === 'help') {
      io.out(commandUsage(command));
      return 0;
    }
    const { spec, rest } = picked;
    name = picked.name;
    const { flags, args } = parse(spec, rest);
    if (flags.help) {
      io.out(subcommandUsage(spec));
      return 0;
    }
    if (args.length !== spec.args.length) throw new FlagError(`takes ${spec.args.length === 0 ? 'no arguments' : spec.args.map((a) => `<${a}>`).join(' ')}`);
    const access: RelayAccess = { base: relayBase(flags.url ?? io.defaultUrl()), token: flags.token ?? (io.env.RELAY_TOKEN || undefined) };
    const printed = await spec.run({ flags, args, now: io.now() }, (method, path, body) => apiRequest(access, method, path, body));
    io.out(flags.json ? printed.json : printed.text);
    if (printed.note && !flags.json) io.err(printed.note);
    return 0;
  } catch (error) {
    if (error instanceof FlagError) {
      io.err(`mcp-event-relay ${name}: ${error.message} (see mcp-event-relay ${name} --help)`);
      return 2;
    }
    if (error instanceof ApiFailure) {
      io.err(`mcp-event-relay ${name}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
