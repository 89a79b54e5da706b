import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { stationPaths } from '../cli/dataDir.js';
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

  it('checks the passphrase before it opens the database', async () => {
    // A locked line opens the whole station at each guess; the database's page check (a second
    // per 100,000 devices) must not be paid for a wrong passphrase. A damaged database shows the
    // order: the wrong passphrase is what the supervisor hears, and the file is left as it was.
    const dataDir = join(dir, 'wrong-guess');
    await mkdir(dataDir);
    await initStationCa(stationPaths(dataDir).caDir, {
      name: 'Guess TEST',
      wrapper: new PassphraseKeyWrapper('the right passphrase'),
    });
    const damaged = Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4080, 0x5a)]);
    await writeFile(stationPaths(dataDir).database, damaged);
    const open = (passphrase: string) =>
      openProductionStation({
        dataDir,
        profilesFile,
        ports: ['/dev/ttyLS-ABSENT'],
        discover: false,
        baudRate: 115_200,
        mode: 'manual',
        passphrase,
        log: () => {},
      });
    await expect(open('a wrong guess')).rejects.toMatchObject({
      code: 'CUSTODY_WRONG_PASSPHRASE',
    });
    expect(await readFile(stationPaths(dataDir).database)).toEqual(damaged);
    // The right passphrase reaches the database, which refuses to open.
    await expect(open('the right passphrase')).rejects.toMatchObject({
      code: 'STORE_DATABASE_CORRUPT',
    });
  });
});
