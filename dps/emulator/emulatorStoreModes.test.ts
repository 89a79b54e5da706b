import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmulatorStore } from './emulatorStore.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dps-emulator-modes-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const modeOf = (path: string): number => statSync(path).mode & 0o777;

describe('the emulator store on a file', () => {
  it('creates its folder 0700 and its database, WAL and index 0600', () => {
    const file = join(dir, 'nested', 'emulator.sqlite');
    const store = EmulatorStore.open({ file });
    try {
      store.setSetting('serviceKey', 'not a real key');
      expect(modeOf(join(dir, 'nested'))).toBe(0o700);
      for (const path of [file, `${file}-wal`, `${file}-shm`]) expect(modeOf(path)).toBe(0o600);
    } finally {
      store.close();
    }
  });

  it('narrows a database and WAL that were readable by everyone', () => {
    const file = join(dir, 'emulator.sqlite');
    EmulatorStore.open({ file }).close();
    chmodSync(file, 0o644);
    writeFileSync(`${file}-wal`, '');
    chmodSync(`${file}-wal`, 0o644);
    const store = EmulatorStore.open({ file });
    try {
      store.setSetting('serviceKey', 'not a real key');
      for (const path of [file, `${file}-wal`, `${file}-shm`]) expect(modeOf(path)).toBe(0o600);
    } finally {
      store.close();
    }
  });
});
