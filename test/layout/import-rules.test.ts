import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collectImports, type ImportEdge, parseLayout, violations } from './import-rules.js';

const FOLDERS = ['src', 'client', 'examples'];

describe("ARCHITECTURE.md's layout table", () => {
  const rows = parseLayout(readFileSync('ARCHITECTURE.md', 'utf8'));
  const edges = collectImports('.', FOLDERS);
  const files = [...new Set(collectImports('.', FOLDERS).map((e) => e.from))];

  it('holds: every file is in a row, and no import crosses what its row may import', () => {
    expect(violations(rows, edges, files)).toEqual([]);
  });

  it('catches a wrong import: the log reaching up into the MCP layer, a type import used for a value, a file in no row', () => {
    const wrong: ImportEdge[] = [
      { from: 'src/log/event-log.ts', to: 'src/mcp/tools.ts', typeOnly: false },
      { from: 'src/config.ts', to: 'src/observe/logger.ts', typeOnly: false },
    ];
    expect(violations(rows, wrong, ['src/nowhere-else/file.ts'])).toEqual([
      'src/nowhere-else/file.ts is in no row of the layout table',
      'src/log/event-log.ts imports src/mcp/tools.ts: its row (src/log/) does not allow it',
      'src/config.ts imports src/observe/logger.ts: its row (src/config.ts) does not allow it',
    ]);
  });

  it('reads the table it checks: each source room has a row', () => {
    const named = rows.flatMap((r) => r.paths);
    for (const path of ['src/events/', 'src/log/', 'src/mcp/', 'src/http/', 'src/app.ts', 'client/']) expect(named).toContain(path);
  });
});
