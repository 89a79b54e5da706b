import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openStationDatabase } from './stationDatabase.js';

// better-sqlite3 built for another runtime (Electron's ABI under plain Node, or the other way
// round) fails as it loads its binding, inside `new Database()`.
vi.mock('better-sqlite3', () => ({
  default: class {
    constructor() {
      throw Object.assign(
        new Error('better_sqlite3.node was compiled against a different Node.js version'),
        { code: 'ERR_DLOPEN_FAILED' },
      );
    }
  },
}));

const dir = mkdtempSync(join(tmpdir(), 'ls-native-'));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('opening the station database when SQLite itself cannot load', () => {
  it('passes the loader error on as it is, not as a store condition such as a full disk', () => {
    expect(() => openStationDatabase(join(dir, 'station.db'))).toThrow(
      expect.objectContaining({
        code: 'ERR_DLOPEN_FAILED',
        message: expect.stringContaining('different Node.js version'),
      }),
    );
  });
});
