/**
 * A real line saved in a fresh data folder for each test (its CA, profiles file and line.json,
 * one absent device), and the station processes the test starts there, killed after it.
 */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { makeRealLineFolder, type RealLineFolder } from '../../../test/e2e/realLineFolder.js';
import { line } from '../lineCommand.js';
import type { StationProcess } from './stationProcess.js';

export interface SavedLineEachTest {
  /** This test's folder. */
  readonly folder: RealLineFolder;
  /** Processes to kill after this test: push each one started. */
  readonly started: StationProcess[];
}

/** Registers the hooks; call it at the top of a test file. `index` tells the CAs apart. */
export function savedLineEachTest(index: number, passphrase: string): SavedLineEachTest {
  let folder: RealLineFolder | undefined;
  const started: StationProcess[] = [];
  beforeEach(async () => {
    folder = await makeRealLineFolder(index, passphrase);
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const flags = ['--profiles', folder.profilesFile, '--device', '/dev/ttyLS-none'];
    expect(await line(['save', ...flags, '--data-dir', folder.dataDir])).toBe(0);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const station of started.splice(0)) {
      station.child.kill('SIGKILL');
      await station.exited;
    }
    if (folder) await rm(folder.dataDir, { recursive: true, force: true });
  });
  return {
    get folder() {
      if (!folder) throw new Error('savedLineEachTest: the folder exists only inside a test');
      return folder;
    },
    started,
  };
}
