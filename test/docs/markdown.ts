import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

/**
 * Markdown read the way GitHub renders it, for the docs checks: tables (GFM), and the paths
 * a document points at. Fenced code blocks are not prose: no table or code span in them.
 */

/** A rendered GFM table: its header cells and its rows' cells. */
export interface Table {
  /** 1-based line of the header row. */
  line: number;
  header: string[];
  rows: string[][];
}

const FENCE = /^\s*(```|~~~)/;
const DELIMITER_ROW = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

/** A row's cells: split on every `|` not escaped as `\|` (inside code spans too, as GFM does). */
const cellsOf = (line: string) =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());

/** The text with every fenced code block blanked out (line numbers kept). */
export function prose(text: string): string {
  let fenced = false;
  return text
    .split('\n')
    .map((line) => {
      if (FENCE.test(line)) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line;
    })
    .join('\n');
}

/**
 * The tables of `text`, and every `|` line that does not render as the table row it means to
 * be: one with no header and delimiter row above it (after a blank line a table is over, and
 * what follows is plain text), or with more or fewer cells than its header.
 */
export function readTables(file: string, text: string): { tables: Table[]; problems: string[] } {
  const lines = prose(text).split('\n');
  const tables: Table[] = [];
  const problems: string[] = [];
  let table: Table | undefined;
  let strayRun = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trimStart().startsWith('|')) {
      table = undefined;
      strayRun = false;
      continue;
    }
    if (table) {
      const cells = cellsOf(line);
      if (cells.length !== table.header.length) problems.push(`${file}:${i + 1}: a table row with ${cells.length} cells under a header of ${table.header.length}`);
      table.rows.push(cells);
    } else if (DELIMITER_ROW.test(lines[i + 1] ?? '')) {
      table = { line: i + 1, header: cellsOf(line), rows: [] };
      tables.push(table);
      i++;
    } else if (!strayRun) {
      problems.push(`${file}:${i + 1}: a table row with no header row above it renders as plain text (a blank line ends a table)`);
      strayRun = true;
    }
  }
  return { tables, problems };
}

/** The texts of the code spans in `text`. */
export const codeSpans = (text: string) => [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!.trim());

/** Names written as code in the cells of every table of `text`. */
export function namesInTables(text: string): Set<string> {
  const { tables } = readTables('', text);
  return new Set(tables.flatMap((t) => [t.header, ...t.rows]).flatMap((cells) => cells.flatMap(codeSpans)));
}

/** Link and image targets, reference definitions and HTML `href`/`src` of `text` (prose only). */
function linkTargets(text: string): string[] {
  const body = prose(text);
  return [
    ...[...body.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+["'(][^)]*)?\)/g)].map((m) => m[1]!),
    ...[...body.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/gm)].map((m) => m[1]!),
    ...[...body.matchAll(/\b(?:href|src)\s*=\s*["']([^"']+)["']/g)].map((m) => m[1]!),
  ];
}

/** Paths that climb with `../`, anywhere in `text` (code blocks included). */
const climbingPaths = (text: string) => [...text.matchAll(/(?:^|[^\w./-])((?:\.\.\/)+[^\s`'")\]>,;]*)/gm)].map((m) => m[1]!);

/** The repository as the checks see it: its root, its own top-level folders and every path in them. */
export interface Repository {
  root: string;
  /** `src`, `test`, `spec-notes`, …: neither `.git` nor what `.gitignore` leaves out. */
  folders: Set<string>;
  /** Every file and folder in those, relative to the root. */
  paths: string[];
}

/**
 * Every path `file` (absolute, inside the repository) points at that leaves the repository
 * or is not there: link targets (relative to the file, or to the repository root when they
 * start with `/`), paths that climb with `../`, and code spans that start with one of the
 * repository's folders (`src/log/event-log.ts`; a span that is the tail of a path, like
 * `scripts/append.lua` in a paragraph about `src/log/redis/`, names that path). Code spans
 * with a placeholder (`<name>`, `*`, `{…}`, `…`) are patterns, not paths.
 */
export function pathProblems(repo: Repository, file: string, text: string): string[] {
  const { root } = repo;
  const name = relative(root, file);
  const problems = new Set<string>();
  const check = (written: string, path: string) => {
    const where = relative(root, path);
    if (where.startsWith('..') || isAbsolute(where)) problems.add(`${name}: "${written}" points outside the repository`);
    else if (!existsSync(path)) problems.add(`${name}: "${written}" names ${where}, which does not exist`);
  };
  for (const target of linkTargets(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#') || target.startsWith('//')) continue;
    const path = decodeURI(target.split(/[?#]/)[0]!);
    if (path !== '') check(target, path.startsWith('/') ? join(root, path) : resolve(dirname(file), path));
  }
  for (const path of climbingPaths(text)) check(path, resolve(dirname(file), path));
  for (const span of codeSpans(prose(text))) {
    if (!span.includes('/') || !repo.folders.has(span.split('/')[0]!) || /[\s<>*{}…$]/.test(span)) continue;
    const tail = `/${span.replace(/\/$/, '')}`;
    if (!repo.paths.some((path) => path.endsWith(tail))) check(span, join(root, span));
  }
  return [...problems];
}

/** Names `.gitignore` leaves out of the repository at any depth (`node_modules`, `dist`, …), and `.git`. */
function ignoredNames(root: string): Set<string> {
  const lines = readFileSync(join(root, '.gitignore'), 'utf8').split('\n');
  return new Set(['.git', ...lines.map((line) => line.trim().replace(/^\//, '').replace(/\/$/, '')).filter(Boolean)]);
}

/** The repository's own folders and every path in them, generated and installed folders left out. */
export function repository(root: string): Repository {
  const ignored = ignoredNames(root);
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir))
      .filter((name) => !ignored.has(name))
      .flatMap((name) => {
        const path = dir ? `${dir}/${name}` : name;
        return statSync(join(root, path)).isDirectory() ? [path, ...walk(path)] : [path];
      });
  const paths = walk('');
  const folders = new Set(paths.filter((path) => !path.includes('/') && statSync(join(root, path)).isDirectory()));
  return { root, folders, paths };
}

/** Every Markdown file of the repository (absolute paths). */
export const markdownFiles = (repo: Repository) =>
  repo.paths
    .filter((path) => path.endsWith('.md'))
    .map((path) => join(repo.root, path))
    .sort();
