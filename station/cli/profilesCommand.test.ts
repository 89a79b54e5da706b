import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { profiles } from './profilesCommand.js';

const dir = await mkdtemp(join(tmpdir(), 'ls-profiles-cmd-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

async function validate(mode: string) {
  const file = join(dir, `${mode}.json`);
  await writeFile(
    file,
    JSON.stringify({
      profiles: [
        {
          name: 'Sensor',
          models: ['S-1'],
          dps: { globalEndpoint: '127.0.0.1:8443', idScope: '0ne0012AB34' },
          attestation: { mode },
        },
      ],
    }),
  );
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
  vi.spyOn(console, 'error').mockImplementation((line: string) => void out.push(line));
  const code = await profiles(['validate', file]);
  return { code, out: out.join('\n') };
}

describe('station profiles validate', () => {
  it('shows the DPS endpoint with the scope, the two settings every device is given', async () => {
    const { code, out } = await validate('x509-device-key');
    expect(out).toContain('endpoint 127.0.0.1:8443, scope 0ne0012AB34');
    expect(code).toBe(0);
  });

  it('accepts every mode the line runs, tpm included', async () => {
    const { code, out } = await validate('tpm');
    expect(out).toContain('ok  Sensor: tpm,');
    expect(out).toContain('1 profile valid in');
    expect(code).toBe(0);
  });
});
