import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openProductionStation } from './productionStation.js';

const dir = await mkdtemp(join(tmpdir(), 'ls-production-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('openProductionStation', () => {
  it('names the real flag when a line has no ports', async () => {
    const profilesFile = join(dir, 'profiles.json');
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
});
