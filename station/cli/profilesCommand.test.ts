import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { profiles } from './profilesCommand.js';

const dir = await mkdtemp(join(tmpdir(), 'ls-profiles-cmd-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

async function validate(mode: string, change: Record<string, unknown> = {}) {
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
          ...change,
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

  it('shows the registration ID a sample device gets, and what normalising for DPS changed', async () => {
    const { code, out } = await validate('x509-device-key', {
      registrationId: { template: 'line 7 {serial}' },
    });
    expect(out).toContain(
      '    registration ID for serial "SN00000001": line-7-sn00000001 (from "line 7 SN00000001"; changed for DPS: lower-cased, spaces became "-")',
    );
    expect(code).toBe(0);
    const plain = await validate('x509-device-key', {
      models: ['s-1'],
      registrationId: { template: '{model}-{serial}' },
    });
    expect(plain.out).toContain(
      'registration ID for model "s-1", serial "SN00000001": s-1-sn00000001 (from "s-1-SN00000001"; changed for DPS: lower-cased)',
    );
  });

  it('notes a global endpoint given as a URL, with the host name the devices get', async () => {
    const { code, out } = await validate('x509-device-key', {
      dps: { globalEndpoint: 'https://dps.plant.local:8443/', idScope: '0ne0012AB34' },
    });
    expect(out).toContain('endpoint dps.plant.local:8443, scope 0ne0012AB34');
    expect(out).toContain(
      'note profiles[0].dps.globalEndpoint: "https://dps.plant.local:8443/" is a URL; devices are given its host name, dps.plant.local:8443',
    );
    expect(code).toBe(0);
  });

  it('lists every problem by its path, with what to write', async () => {
    const { code, out } = await validate('x509-device-key', {
      dps: { globalEndpoint: 'https://dps.plant.local/x', idScope: '0NE0012AB34' },
      iotHubs: ['myhub'],
    });
    expect(out).toContain('3 problems [PROFILE_INVALID]');
    expect(out).toContain(
      '  profiles[0].dps.globalEndpoint: expected the host name only, not a URL: write "dps.plant.local"',
    );
    expect(out).toContain(
      '  profiles[0].dps.idScope: expected "0ne" in lower case at the start: write "0ne0012AB34"',
    );
    expect(out).toContain(
      '  profiles[0].iotHubs[0]: expected the IoT hub\'s host name, not its name alone: write "myhub.azure-devices.net"',
    );
    expect(code).toBe(1);
  });
});

describe('station profiles validate, several files', () => {
  async function profilesFile(name: string, idScope: string): Promise<string> {
    const file = join(dir, name);
    const profile = {
      name: 'Sensor',
      models: ['S-1'],
      dps: { globalEndpoint: '127.0.0.1:8443', idScope },
      attestation: { mode: 'tpm' },
    };
    await writeFile(file, JSON.stringify({ profiles: [profile] }));
    return file;
  }

  function captured(): string[] {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
    vi.spyOn(console, 'error').mockImplementation((line: string) => void out.push(line));
    return out;
  }

  // `const [sub, file] = args`: every file after the first went unchecked, and passed as valid.
  it('checks every file given, prints each result, and exits 1 when any fails', async () => {
    const good = await profilesFile('good.json', '0ne0012AB34');
    const bad = await profilesFile('bad.json', 'LINE7');
    const out = captured();
    expect(await profiles(['validate', good, bad])).toBe(1);
    expect(out).toContain(`1 profile valid in ${good}`);
    expect(out).toContain(`${bad}: 1 problem [PROFILE_INVALID]`);
    expect(out.at(-1)).toBe('1 of 2 files valid');

    out.length = 0;
    expect(await profiles(['validate', bad, good])).toBe(1);
    expect(out).toContain(`1 profile valid in ${good}`);

    out.length = 0;
    expect(await profiles(['validate', good, '--', good])).toBe(0);
    expect(out.filter((line) => line === `1 profile valid in ${good}`)).toHaveLength(2);
  });

  it('refuses an option (it takes none) as a usage error, checking nothing', async () => {
    const good = await profilesFile('good.json', '0ne0012AB34');
    const out = captured();
    for (const args of [
      [good, '--strict'],
      ['--json', good],
      [good, '-q'],
    ]) {
      await expect(profiles(['validate', ...args])).rejects.toMatchObject({
        code: 'CLI_USAGE',
        message: expect.stringContaining(
          `unknown option "${args.find((a) => a.startsWith('-'))!}"`,
        ) as string,
      });
    }
    expect(out).toEqual([]);
  });
});
