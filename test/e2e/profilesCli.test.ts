import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const CLI = join(process.cwd(), 'station', 'cli.ts');

async function validate(content: string) {
  const file = join(await mkdtemp(join(tmpdir(), 'ls-profiles-')), 'profiles.json');
  await writeFile(file, content);
  try {
    const { stdout, stderr } = await run(TSX, [CLI, 'profiles', 'validate', file]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('station profiles validate', () => {
  it('accepts a valid file and names every problem of a bad one by its field path', async () => {
    const good = await validate(
      JSON.stringify({
        profiles: [
          {
            name: 'sensor-v2',
            models: ['SENSOR-2'],
            dps: { idScope: '0ne00AB12CD' },
            attestation: { mode: 'x509-device-key' },
          },
        ],
      }),
    );
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('1 profile valid');

    const bad = await validate(
      JSON.stringify({
        profiles: [
          { name: 'x', models: [], dps: { idScope: 'nope' }, attestation: { mode: 'laser' } },
        ],
      }),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('[PROFILE_INVALID]');
    expect(bad.stderr).toContain('profiles[0].models');
    expect(bad.stderr).toContain('profiles[0].dps.idScope');
    expect(bad.stderr).toContain('profiles[0].attestation.mode');
  });

  it('says where a file stops being JSON', async () => {
    const broken = await validate('{"profiles": [\n  {"name": "x",}\n]}');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/\[PROFILE_UNREADABLE\][\s\S]*line 2/);
  });
});
