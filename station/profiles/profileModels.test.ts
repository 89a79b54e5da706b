/**
 * Models and registration IDs a profile can be written with but no line can use: each passed
 * `profiles validate` and then failed every device of the model, or gave two devices one ID.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadProfilesWithNotes,
  parseProfiles,
  parseProfilesWithNotes,
  ProfileError,
  type ProfileIssue,
} from './loadProfiles.js';

const valid = (change: Record<string, unknown> = {}) => ({
  name: 'Sensor A',
  models: ['SENSOR-A'],
  dps: { idScope: '0ne0012AB34' },
  attestation: { mode: 'x509-device-key' },
  ...change,
});

function refusal(run: () => unknown): ProfileError {
  try {
    run();
  } catch (err) {
    if (err instanceof ProfileError) return err;
    throw err;
  }
  throw new Error('expected the file to be refused');
}

const issuesOf = (...profiles: unknown[]): ProfileIssue[] =>
  refusal(() => parseProfiles(JSON.stringify({ profiles }), 'line-a.json')).issues.slice();

describe('model names', () => {
  it('refuses a space at either end, a control character or a byte that was not UTF-8', () => {
    expect(issuesOf(valid({ models: ['LS-100 ', 'LS\t200', 'LS-\uFFFD', 'LS-300'] }))).toEqual([
      {
        path: 'profiles[0].models[0]',
        message: 'has a space at the start or end, which no device reports: remove it',
      },
      {
        path: 'profiles[0].models[1]',
        message: 'holds a control character or a byte that is not UTF-8: retype the model name',
      },
      {
        path: 'profiles[0].models[2]',
        message: 'holds a control character or a byte that is not UTF-8: retype the model name',
      },
    ]);
  });

  it('refuses two models whose devices would share registration IDs', () => {
    expect(issuesOf(valid({ models: ['LS 100', 'ls-100'] }))).toEqual([
      {
        path: 'profiles[0].models[1]',
        message:
          'gives its devices the same registration IDs as models[0] "LS 100" (ls-100-sn00000001 for serial SN00000001): two devices with one serial would share an ID in DPS',
      },
    ]);
    // Without {model} in the template the serial alone must tell devices apart: that is the
    // supervisor's choice, and allowed.
    expect(
      parseProfiles(
        JSON.stringify({
          profiles: [valid({ models: ['A', 'B'], registrationId: { template: 'x-{serial}' } })],
        }),
        'f',
      ),
    ).toHaveLength(1);
  });

  it('notes a model that adds nothing to the ID, and refuses two such models', () => {
    const { notes } = parseProfilesWithNotes(
      JSON.stringify({ profiles: [valid({ models: ['传感器'] })] }),
      'f',
    );
    expect(notes).toEqual([
      {
        path: 'profiles[0].registrationId.template',
        message:
          'model "传感器" has no character a registration ID may hold (a-z, 0-9, . _ : -), so {model} adds nothing to its devices\' IDs (sn00000001): their serial numbers alone must tell them from every other device in this DPS',
      },
    ]);
    expect(issuesOf(valid({ models: ['传感器', '网关'] }))).toEqual([
      {
        path: 'profiles[0].models[1]',
        message:
          'gives its devices the same registration IDs as models[0] "传感器" (sn00000001 for serial SN00000001): two devices with one serial would share an ID in DPS',
      },
    ]);
  });
});

describe('field messages', () => {
  it('say what is wrong with a string that is too long or empty', () => {
    expect(issuesOf(valid({ name: 'N'.repeat(65), registrationId: { template: '' } }))).toEqual([
      { path: 'profiles[0].name', message: 'must be at most 64 characters' },
      {
        path: 'profiles[0].registrationId.template',
        message: 'must not be empty (leave the field out for {model}-{serial})',
      },
    ]);
  });

  it('refuse a value nested thousands of levels deep with its path, not a stack overflow', () => {
    const tags = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const text = `{"profiles":[${JSON.stringify(valid()).slice(0, -1)},"initialTwin":{"tags":${tags}}}]}`;
    const error = refusal(() => parseProfiles(text, 'deep.json'));
    expect(error.code).toBe('PROFILE_INVALID');
    expect(error.issues).toEqual([
      {
        path: `profiles[0].initialTwin.tags${'.a'.repeat(28)}`,
        message: 'nested more than 32 levels deep (a twin may nest at most 10 levels of objects)',
      },
    ]);
  });
});

describe('room for the serial number', () => {
  it('notes a template that leaves a serial fewer than 24 characters', () => {
    const model = `GATEWAY-${'X'.repeat(45)}`;
    const { notes } = parseProfilesWithNotes(
      JSON.stringify({ profiles: [valid({ models: [model, 'G2'] })] }),
      'f',
    );
    expect(notes).toEqual([
      {
        path: 'profiles[0].registrationId.template',
        message: `with model "${model}" the ID has room for serial numbers of at most 10 characters; a device with a longer one fails its run (RUN_REGISTRATION_ID_INVALID): shorten the template or the model name`,
      },
    ]);
    // The 128 characters of the other modes leave room enough.
    const symmetric = { mode: 'symmetric-key-individual' };
    expect(
      parseProfilesWithNotes(
        JSON.stringify({ profiles: [valid({ models: [model], attestation: symmetric })] }),
        'f',
      ).notes,
    ).toEqual([]);
  });
});

describe('a profiles file saved as UTF-16', () => {
  it('is refused with what to do, not as JSON with a NUL character', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'profiles-utf16-')), 'line.json');
    const text = JSON.stringify({ profiles: [valid()] });
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const error = await loadProfilesWithNotes(file).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toMatchObject({
      code: 'PROFILE_UNREADABLE',
      issues: [
        {
          path: '',
          message:
            'the file is saved as UTF-16 (or holds NUL bytes); save it as UTF-8 (in Notepad: Save As, Encoding UTF-8)',
        },
      ],
    });
    writeFileSync(file, text, 'utf8');
    expect((await loadProfilesWithNotes(file)).profiles).toHaveLength(1);
  });
});
