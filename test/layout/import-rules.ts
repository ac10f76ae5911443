import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/**
 * The layout table of ARCHITECTURE.md as rules: each row names its paths (first column) and
 * what they may import (third column: backticked room names, `X types` for type-only imports,
 * "everything", or nothing). A room name `X` stands for `src/X/`, `src/X.ts` or a top-level
 * `X/`; `X/Y.ts` for one file of a room. Test rows (paths under `test/`) are not checked.
 */
export interface LayoutRow {
  paths: string[];
  /** `undefined`: everything. */
  allowed: { name: string; typesOnly: boolean }[] | undefined;
}

export interface ImportEdge {
  from: string;
  to: string;
  typeOnly: boolean;
}

const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

export function parseLayout(markdown: string): LayoutRow[] {
  const section = markdown.split(/^## Layout\s*$/m)[1]?.split(/^## /m)[0];
  if (section === undefined) throw new Error('ARCHITECTURE.md has no "## Layout" section');
  const rows: LayoutRow[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.length !== 3 || cells[0] === 'folder' || /^-+$/.test(cells[0]!)) continue;
    const paths = ticked(cells[0]!).filter((p) => !p.startsWith('test/'));
    if (paths.length === 0) continue;
    const column = cells[2]!;
    const allowed = /^everything\b/.test(column)
      ? undefined
      : [...column.matchAll(/`([^`]+)`( types)?/g)].filter((m) => !m[1]!.includes(' ')).map((m) => ({ name: m[1]!, typesOnly: m[2] !== undefined }));
    rows.push({ paths, allowed });
  }
  return rows;
}

/** The paths a room name stands for: a folder or file under `src/`, a top-level folder, or one file (`log/redis/connection.ts`). */
function pathsOf(name: string): string[] {
  return name.endsWith('.ts') ? [`src/${name}`] : [`src/${name}/`, `src/${name}.ts`, `${name}/`];
}

const covers = (path: string, file: string) => (path.endsWith('/') ? file.startsWith(path) : file === path);

/** The row a file belongs to: the one with the longest path covering it. */
function rowOf(rows: LayoutRow[], file: string): { row: LayoutRow; path: string } | undefined {
  let best: { row: LayoutRow; path: string } | undefined;
  for (const row of rows) for (const path of row.paths) if (covers(path, file) && path.length > (best?.path.length ?? -1)) best = { row, path };
  return best;
}

/** Every relative import (static, re-export, dynamic) of the TypeScript files under `folders`, as repository paths. */
export function collectImports(root: string, folders: string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir)).flatMap((name) => {
      const path = join(dir, name);
      return statSync(join(root, path)).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
    });
  for (const file of folders.flatMap(walk)) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/gm)) {
      const specifier = m[3] ?? m[4]!;
      const to = normalize(join(dirname(file), specifier)).replace(/\.js$/, '.ts');
      edges.push({ from: file, to: relative('.', to), typeOnly: m[2] !== undefined });
    }
  }
  return edges;
}

/** Each import that crosses the table, and each file no row covers, as a sentence. */
export function violations(rows: LayoutRow[], edges: ImportEdge[], files: string[]): string[] {
  const out: string[] = [];
  for (const file of files) if (!rowOf(rows, file)) out.push(`${file} is in no row of the layout table`);
  for (const edge of edges) {
    const from = rowOf(rows, edge.from);
    const to = rowOf(rows, edge.to);
    if (!from || !to || from.row === to.row || from.row.allowed === undefined) continue;
    const ok = from.row.allowed.some((a) => (edge.typeOnly || !a.typesOnly) && pathsOf(a.name).some((p) => covers(p, edge.to)));
    if (!ok) out.push(`${edge.from} imports ${edge.to}${edge.typeOnly ? ' (types)' : ''}: its row (${from.path}) does not allow it`);
  }
  return out;
}
