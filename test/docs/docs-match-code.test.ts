import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { providerKinds } from '../../src/ingest/provider.js';
import { connectModernAgent, startMcpRelay } from '../support/mcp-clients.js';
import { exited, runCli } from '../support/relay-process.js';
import { cliCommands, codeVariables, configVariables, storeForms } from './code-surface.js';
import { codeSpans, markdownFiles, namesInTables, pathProblems, readTables, repository } from './markdown.js';

/**
 * The docs against the code, both read as they are: README's tables against the variables
 * the relay reads, the tools and resource templates a real relay lists and the commands the
 * CLI dispatches; every Markdown file's tables and the paths it points at.
 */

const root = resolve(import.meta.dirname, '../..');
const repo = repository(root);
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const inTables = namesInTables(readme);
const variableTables = readTables('README.md', readme).tables.filter((table) => table.header[0] === 'variable');

describe('the docs match the code', () => {
  it('renders every table of every Markdown file as one table: no row split off by a blank line, no row with a cell too many or too few', () => {
    const problems = markdownFiles(repo).flatMap((file) => readTables(relative(root, file), readFileSync(file, 'utf8')).problems);
    expect(problems).toEqual([]);
  });

  it("has every environment variable the relay reads in README's tables: config's settings and sources' secrets, and what src/ and client/ read", () => {
    const required = new Map([...[...configVariables()].map((name) => [name, 'src/config.ts'] as const), ...codeVariables(root, ['src', 'client'])]);
    expect(required.get('RELAY_STORE')).toBe('src/config.ts');
    expect(required.get('STRIPE_WEBHOOK_SECRET')).toBe('src/config.ts');
    const missing = [...required].filter(([name]) => !inTables.has(name)).map(([name, file]) => `${name} (read by ${file})`);
    expect(missing).toEqual([]);
  });

  it('names no variable in README that nothing reads', () => {
    const declared = new Set(
      [...readme.matchAll(new RegExp(`\\b([a-z0-9][a-z0-9_-]*):(${providerKinds.join('|')})\\b`, 'g'))]
        .filter((m) => !(providerKinds as readonly string[]).includes(m[1]!))
        .map((m) => m[0]),
    );
    const known = new Set([...configVariables([...declared].join(',')), ...codeVariables(root, [...repo.folders]).keys()]);
    const named = new Set([
      ...[...readme.matchAll(/\b(?:RELAY_[A-Z0-9_]*|[A-Z][A-Z0-9_]*_WEBHOOK_SECRET)\b/g)].map((m) => m[0]),
      ...variableTables.flatMap((table) => table.rows.flatMap((row) => codeSpans(row[0] ?? ''))),
    ]);
    // `RELAY_WEBHOOK_*`: a family, which must name at least one variable.
    const unknown = [...named].filter((name) => (name.endsWith('_') ? ![...known].some((k) => k.startsWith(name)) : !known.has(name)));
    expect(unknown).toEqual([]);
  });

  it('has every MCP tool and resource template a relay lists in a README table', async () => {
    const relay = await startMcpRelay();
    const agent = await connectModernAgent(relay);
    try {
      const { tools } = await agent.client.listTools();
      const { resourceTemplates } = await agent.client.listResourceTemplates();
      expect(tools.map((tool) => tool.name)).toContain('check_pending_events');
      expect(resourceTemplates.length).toBeGreaterThan(0);
      const undocumentedTools = tools.map((tool) => tool.name).filter((name) => !inTables.has(name));
      // `events://{+group}` is documented as `events://{group}`: any variable names, same shape.
      const shapeOf = (template: string) => template.replace(/\{\+?[^}]*\}/g, '{}');
      const documentedShapes = new Set([...inTables].map(shapeOf));
      const undocumentedTemplates = resourceTemplates.map((t) => t.uriTemplate).filter((template) => !documentedShapes.has(shapeOf(template)));
      expect([...undocumentedTools, ...undocumentedTemplates]).toEqual([]);
    } finally {
      await agent.close();
      await relay.close();
    }
  });

  it('has every CLI command in README, and every store form config takes in serve --help and the RELAY_STORE row', async () => {
    const commands = cliCommands(root);
    expect(commands).toEqual(expect.arrayContaining(['serve', 'send', 'tail']));
    expect(commands.filter((command) => !new RegExp(`mcp-event-relay ${command}\\b`).test(readme))).toEqual([]);

    const forms = storeForms();
    expect(forms).toEqual(expect.arrayContaining(['sqlite:', 'memory', 'redis://']));
    const storeRow = variableTables.flatMap((table) => table.rows).find((row) => codeSpans(row[0] ?? '').includes('RELAY_STORE'));
    expect(forms.filter((form) => !storeRow?.join(' ').includes(form))).toEqual([]);
    const child = runCli(['serve', '--help']);
    let help = '';
    child.stdout!.on('data', (chunk: Buffer) => (help += chunk.toString()));
    expect(await exited(child)).toBe(0);
    expect(forms.filter((form) => !help.includes(form))).toEqual([]);
  });

  it('has every Markdown file point only inside the repository, at files that exist', () => {
    const files = markdownFiles(repo);
    const names = files.map((file) => relative(root, file));
    expect(names).toEqual(expect.arrayContaining(['README.md', 'ARCHITECTURE.md', 'spec-notes/feed.md', 'client/README.md', 'bench/README.md', 'conformance/events/README.md']));
    expect(names.some((name) => name.includes('node_modules'))).toBe(false);
    expect(files.flatMap((file) => pathProblems(repo, file, readFileSync(file, 'utf8')))).toEqual([]);
  });
});

describe('the docs checks catch', () => {
  it('a table split by a blank line, and a row with a cell too many (an unescaped | in code)', () => {
    const text = '| variable | default |\n|---|---|\n| `A` | 1 |\n\n| `B` | 2 |\n| `C` | 3 |\n\n| a | b |\n|---|---|\n| `x|y` | z |\n';
    expect(readTables('X.md', text).problems).toEqual([
      'X.md:5: a table row with no header row above it renders as plain text (a blank line ends a table)',
      'X.md:10: a table row with 3 cells under a header of 2',
    ]);
    expect([...namesInTables(text)]).toEqual(['A']);
  });

  it('a path out of the repository, a link to nothing, a code span naming a file that is not there; not URLs, anchors or patterns', () => {
    const file = join(root, 'spec-notes/feed.md');
    const text = [
      'The feed of `../shared/design/protocol.md` §6, see [the log](../src/log/nope.md) and `src/log/gone.ts`.',
      '```sh',
      'cat ../../outside/notes.md',
      '```',
      'Fine: [README](../README.md), [up](#frames), <https://example.com>, [spec](https://modelcontextprotocol.io/x), `src/log/event-log.ts`,',
      '`src/log/redis/scripts/*.lua`, `bench/<name>.ts`, [abs](/ARCHITECTURE.md#layout).',
    ].join('\n');
    expect(pathProblems(repo, file, text)).toEqual([
      'spec-notes/feed.md: "../src/log/nope.md" names src/log/nope.md, which does not exist',
      'spec-notes/feed.md: "../shared/design/protocol.md" names shared/design/protocol.md, which does not exist',
      'spec-notes/feed.md: "../../outside/notes.md" points outside the repository',
      'spec-notes/feed.md: "src/log/gone.ts" names src/log/gone.ts, which does not exist',
    ]);
    expect(pathProblems(repo, join(root, 'ARCHITECTURE.md'), 'as `../shared/design/architecture.md` says, in `scripts/append.lua`')).toEqual([
      'ARCHITECTURE.md: "../shared/design/architecture.md" points outside the repository',
    ]);
  });
});
