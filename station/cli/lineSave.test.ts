import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readSavedLine } from '../production/savedLine.js';
import { line } from './lineCommand.js';
import { ports } from './portsCommand.js';

let root: string;
let printed: string[];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'line-save-'));
  printed = [];
  vi.spyOn(console, 'log').mockImplementation((text: string) => void printed.push(text));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(root, { recursive: true, force: true });
});

/** A data folder with a CA folder (all `line save` checks of it) and a one-product file. */
function station(): { dataDir: string; profiles: string } {
  const dataDir = join(root, 'data');
  mkdirSync(join(dataDir, 'ca'), { recursive: true });
  const profiles = join(root, 'profiles.json');
  writeFileSync(
    profiles,
    JSON.stringify({
      profiles: [
        {
          name: 'Sensor v2',
          models: ['LS-DEMO-1'],
          dps: { idScope: '0ne0000AB12' },
          attestation: { mode: 'x509-device-key' },
        },
      ],
    }),
  );
  return { dataDir, profiles };
}

describe('station line save', () => {
  it('saves a port path that is not there now, with a note for each such path', async () => {
    const { dataDir, profiles } = station();
    const there = join(root, 'ttyUSB0');
    writeFileSync(there, '');
    const missing = join(root, 'ttyUSB9');
    const code = await line([
      'save',
      '--profiles',
      profiles,
      '--data-dir',
      dataDir,
      '--device',
      there,
      '--device',
      missing,
      '--device',
      'tcp://10.0.0.5:4001',
    ]);
    expect(code).toBe(0);
    // Saved all the same: an adapter plugged in after the start must still get its slot.
    expect(readSavedLine(dataDir)?.devices).toEqual([there, missing, 'tcp://10.0.0.5:4001']);
    expect(printed.filter((text) => text.startsWith('note:'))).toEqual([
      `note: ${missing} is not there now; its slot will wait for it (station ports lists the ports this machine has)`,
    ]);
  });
});

describe('station ports', () => {
  it("says that simulated devices' ptys are not listed", async () => {
    expect(await ports([])).toBe(0);
    expect(printed.at(-1)).toMatch(
      /simulated devices' ptys .* are not listed: give each by the path/,
    );
  });
});

describe('station line show', () => {
  it('names the product the saved line runs, and says when its profiles file no longer reads', async () => {
    const { dataDir, profiles } = station();
    writeFileSync(join(root, 'ttyUSB0'), '');
    const saveArgs = ['save', '--profiles', profiles, '--data-dir', dataDir];
    expect(await line([...saveArgs, '--device', join(root, 'ttyUSB0')])).toBe(0);
    printed = [];
    expect(await line(['show', '--data-dir', dataDir])).toBe(0);
    expect(printed.at(-1)).toBe(
      '  product   "Sensor v2": x509-device-key, DPS global.azure-devices-provisioning.net, scope 0ne0000AB12',
    );

    writeFileSync(profiles, '{ "profiles": [');
    printed = [];
    expect(await line(['show', '--data-dir', dataDir])).toBe(0);
    expect(printed.at(-1)).toMatch(
      /^ {2}product {3}the line would not start with it now: .*\(PROFILE_[A-Z_]+\)$/,
    );
  });
});
