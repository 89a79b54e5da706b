import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { savedLinePath } from '../production/savedLine.js';
import { stationPaths } from './dataDir.js';
import { line } from './lineCommand.js';
import { provision } from './provisionCommand.js';

let root: string;
let dataDir: string;
let profiles: string;
let said: string[];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'blank-device-'));
  dataDir = join(root, 'data');
  mkdirSync(join(dataDir, 'ca'), { recursive: true });
  profiles = join(root, 'profiles.json');
  const profile = {
    name: 'Sensor v2',
    models: ['LS-DEMO-1'],
    dps: { idScope: '0ne0000AB12' },
    attestation: { mode: 'x509-device-key' },
  };
  writeFileSync(profiles, JSON.stringify({ profiles: [profile] }));
  said = [];
  vi.spyOn(console, 'log').mockImplementation((text: string) => void said.push(text));
  vi.spyOn(console, 'error').mockImplementation((text: string) => void said.push(text));
  // Were the blank path let through, provision would go on to the CA: let it open, to be seen.
  vi.stubEnv('LINE_STATION_CA_PASSPHRASE', 'unused');
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(root, { recursive: true, force: true });
});

describe('an empty --device', () => {
  for (const blank of ['', '   ']) {
    it(`is a usage error of provision naming --device (${JSON.stringify(blank)}), with no run recorded`, async () => {
      const code = await provision([
        '--profiles',
        profiles,
        '--data-dir',
        dataDir,
        '--device',
        blank,
      ]);
      expect(code).toBe(2);
      expect(said.join('\n')).toMatch(/^station provision: --device needs a port path/m);
      expect(existsSync(stationPaths(dataDir).database)).toBe(false);
    });

    it(`is a usage error of line save naming --device (${JSON.stringify(blank)}), nothing saved`, async () => {
      const args = ['save', '--profiles', profiles, '--data-dir', dataDir, '--device', blank];
      const code = await line(args);
      expect(code).toBe(2);
      expect(said.join('\n')).toMatch(/^station line save: --device needs a port path/m);
      expect(existsSync(savedLinePath(dataDir))).toBe(false);
    });
  }
});
