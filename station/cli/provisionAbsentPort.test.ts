import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { provision } from './provisionCommand.js';

const PASSPHRASE = 'rework bench passphrase';
let dataDir: string;
let profilesFile: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'provision-absent-'));
  await initStationCa(join(dataDir, 'ca'), {
    name: 'Rework TEST',
    wrapper: new PassphraseKeyWrapper(PASSPHRASE),
  });
  profilesFile = join(dataDir, 'profiles.json');
  const profile = {
    name: 'Sensor v2',
    models: ['LS-DEMO-1'],
    dps: { idScope: '0ne0000AB12' },
    attestation: { mode: 'x509-device-key' },
  };
  await writeFile(profilesFile, JSON.stringify({ profiles: [profile] }));
}, 30_000);
afterAll(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await rm(dataDir, { recursive: true, force: true });
});

describe('station provision --device PATH', () => {
  it('says that a path that does not exist is not there, and exits 3: no device was tried', async () => {
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((text: string) => void errors.push(text));
    const port = join(dataDir, 'ttyUSB9');
    const args = ['--profiles', profilesFile, '--data-dir', dataDir, '--device', port];
    // Not 1: a rework bench's script reads 1 as "this board failed" and sets it aside.
    expect(await provision(args)).toBe(3);
    const said = errors.join('\n');
    expect(said).toMatch(/^station: .+ \[LINE_PORT_ABSENT\]$/m);
    expect(said).toContain(
      `detail: slot 1 ${port}: there is no ${port} on this machine; check the path (station ports lists the ports this machine has), the cable or the adapter`,
    );
  }, 30_000);
});
