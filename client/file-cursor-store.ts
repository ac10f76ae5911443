import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CursorStore } from './cursor-store.js';

/**
 * A cursor in a JSON file. Each save writes a temporary file beside it and renames it over
 * the old one, so a crash leaves either the previous cursor or the new one, never a torn
 * file. One file per subscription.
 */
export function fileCursorStore(path: string): CursorStore {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      const cursor = (JSON.parse(text) as { cursor?: unknown }).cursor;
      return typeof cursor === 'string' ? cursor : undefined;
    },
    async save(cursor) {
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(temporary, `${JSON.stringify({ cursor })}\n`);
      await rename(temporary, path);
    },
  };
}
