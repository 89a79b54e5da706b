import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ca } from './caCommand.js';
import { reportCliError } from './cliError.js';
import { stationPaths } from './dataDir.js';
import { useCaStation, work } from './testing/caStation.js';

const station = useCaStation();

describe('station ca issue --csr FILE that cannot be read', () => {
  const issueFrom = (csr: string, ...more: string[]) =>
    ca(['issue', '--csr', csr, '--id', 'dev-1', '--data-dir', station.dataDir, ...more]).catch(
      (err: unknown) => err,
    );

  it('refuses a missing file or a folder with a stable code naming --csr, before anything opens', async () => {
    const folder = join(work, 'csr-folder');
    mkdirSync(folder, { recursive: true });
    const out = join(work, 'never-written.pem');
    for (const [csr, why] of [
      [join(work, 'nope.csr'), 'no such file'],
      [folder, 'a folder, not a file'],
    ] as const) {
      const refused = await issueFrom(csr, '--out', out);
      expect(refused).toMatchObject({
        code: 'CA_ISSUE_CSR_UNREADABLE',
        message: expect.stringContaining(`--csr ${csr}: ${why}.`),
      });
      expect((refused as Error).message).not.toMatch(/ENOENT|EISDIR/);
      expect(reportCliError(refused)).toBe(1);
    }
    expect(existsSync(out)).toBe(false);
    expect(existsSync(stationPaths(station.dataDir).database)).toBe(false);
  });
});
