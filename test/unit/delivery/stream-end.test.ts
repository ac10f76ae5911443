import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { failureEnd } from '../../../src/delivery/stream-end.js';
import { LogError } from '../../../src/log/log-error.js';

describe('failureEnd', () => {
  it('blames the store for a log that is unavailable or closed, and for a SQLite error', () => {
    expect(failureEnd(new LogError('store_unavailable', 'gone')).reason).toBe('store_error');
    expect(failureEnd(new LogError('closed', 'closed')).reason).toBe('store_error');
    expect(failureEnd(new Database.SqliteError('disk I/O error', 'SQLITE_IOERR')).reason).toBe('store_error');
  });

  it('calls anything else an internal error and keeps the error', () => {
    const bug = new TypeError('cannot read properties of undefined');
    expect(failureEnd(bug)).toEqual({ reason: 'internal_error', error: bug });
    expect(failureEnd(new LogError('invalid_argument', 'bad read')).reason).toBe('internal_error');
  });
});
