import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLineSetup, openProductionStation } from './productionStation.js';

const dir = await mkdtemp(join(tmpdir(), 'ls-production-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const profilesFile = join(dir, 'profiles.json');

describe('openProductionStation', () => {
  it('names the real flag when a line has no ports', async () => {
    await writeFile(
      profilesFile,
      JSON.stringify({
        profiles: [
          {
            name: 'Sensor',
            models: ['S-1'],
            dps: { idScope: '0ne0012AB34' },
            attestation: { mode: 'x509-device-key' },
          },
        ],
      }),
    );
    const opening = openProductionStation({
      dataDir: dir,
      profilesFile,
      ports: [],
      discover: false,
      baudRate: 115_200,
      mode: 'manual',
      passphrase: 'not used',
      log: () => {},
    });
    // The flag is --device (station/cli/lineOptions.ts); there is no --port on a line command.
    await expect(opening).rejects.toMatchObject({
      code: 'STATION_NOT_CONFIGURED',
      message: expect.stringContaining('--device PATH'),
    });
  });

  it('refuses a mistyped port address before anything is opened or asked', async () => {
    // Checked with the setup (before the passphrase is read), not when the line starts.
    await expect(
      checkLineSetup({
        dataDir: dir,
        profilesFile,
        ports: ['/dev/ttyUSB0', 'ftp://10.0.0.5:4001'],
        discover: false,
      }),
    ).rejects.toMatchObject({
      code: 'STATION_NOT_CONFIGURED',
      message: expect.stringContaining('The port "ftp://10.0.0.5:4001" cannot be used'),
    });
  });
});
