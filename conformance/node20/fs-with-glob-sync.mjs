// `node:fs` plus `globSync`, for the conformance CLI on Node 20 (see ./register.mjs).
//
// The CLI calls globSync once, in `tier-check`, as globSync('**/checks.json', { cwd }); the
// `server` command that `npm run conformance` uses never calls it. This polyfill covers
// what that needs and refuses what it does not implement instead of guessing:
//   - patterns (a string or an array of strings) made of `/`-separated segments, where a
//     segment is `**` (any number of directories) or a name with `*` and `?` wildcards;
//   - options.cwd (string or file URL); other options are rejected;
//   - returns paths relative to cwd, with the platform separator, like Node 22's fs.globSync.
// Wildcards do not match a leading dot (as in Node's glob). Brace, class and extglob
// syntax ({a,b} [ab] !(x) …) throws.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export * from 'node:fs';
export default fs;

function segmentMatcher(segment) {
  if (segment === '**') return '**';
  if (/[[\]{}!()+@]/.test(segment)) throw new Error(`globSync polyfill: unsupported pattern syntax in "${segment}"`);
  let source = '';
  for (const char of segment) {
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[\\^$.|]/g, '\\$&');
  }
  const regExp = new RegExp(`^${source}$`);
  const dotAllowed = segment.startsWith('.');
  return (name) => (dotAllowed || !name.startsWith('.')) && regExp.test(name);
}

/** Whether path segments `names[i…]` match pattern segments `parts[j…]`. */
function matches(parts, j, names, i) {
  if (j === parts.length) return i === names.length;
  const part = parts[j];
  if (part === '**') {
    for (let k = i; k <= names.length; k++) {
      if (k > i && names[k - 1].startsWith('.')) break;
      if (matches(parts, j + 1, names, k)) return true;
    }
    return false;
  }
  return i < names.length && part(names[i]) && matches(parts, j + 1, names, i + 1);
}

export function globSync(pattern, options = {}) {
  const { cwd = process.cwd(), ...rest } = options;
  if (Object.keys(rest).length > 0) throw new Error(`globSync polyfill: unsupported options ${Object.keys(rest).join(', ')}`);
  const root = cwd instanceof URL ? fileURLToPath(cwd) : String(cwd);
  const patterns = (Array.isArray(pattern) ? pattern : [pattern]).map((p) =>
    String(p)
      .split('/')
      .filter((s) => s !== '' && s !== '.')
      .map(segmentMatcher),
  );
  let entries;
  try {
    entries = fs.readdirSync(root, { recursive: true });
  } catch {
    return [];
  }
  return entries
    .map(String)
    .filter((entry) => {
      const names = entry.split(path.sep);
      return patterns.some((parts) => matches(parts, 0, names, 0));
    });
}
