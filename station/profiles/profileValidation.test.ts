/**
 * A profiles file is checked in one pass: every problem the station can find is reported at
 * once, each with its field path, so a supervisor is not sent back to the file once per wave.
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

/** The ProfileError of the file text. */
function refusal(text: string): ProfileError {
  try {
    parseProfiles(text, 'line-a.json');
  } catch (err) {
    if (err instanceof ProfileError) return err;
    throw err;
  }
  throw new Error('expected the file to be refused');
}

/** Every issue of a file `{ profiles }`. */
const issuesOf = (...profiles: unknown[]): ProfileIssue[] =>
  refusal(JSON.stringify({ profiles })).issues.slice();

describe('one validation pass', () => {
  it('reports a misspelt template field beside a type error in another field', () => {
    const issues = issuesOf(
      valid({ iotEdge: 'yes', registrationId: { template: '{model}-{serail}' } }),
    );
    expect(issues).toEqual([
      { path: 'profiles[0].iotEdge', message: 'expected true or false' },
      {
        path: 'profiles[0].registrationId.template',
        message:
          'registration ID template names unknown field {serail}; the fields are {model} and {serial}',
      },
    ]);
  });

  it("reports a duplicate name beside another profile's problem", () => {
    const issues = issuesOf(valid(), valid({ models: [''] }));
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'profiles[1].models[0]', message: 'must not be empty or only spaces' },
        { path: 'profiles[1].name', message: 'another profile is already named "Sensor A"' },
      ]),
    );
    expect(issues).toHaveLength(2);
  });

  it('checks the attestation against its mode when another attestation field fails', () => {
    const issues = issuesOf(
      valid({ attestation: { mode: 'symmetric-key-group', curve: 'P-521' } }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'profiles[0].attestation.curve', message: 'expected P-256 or P-384' },
        {
          path: 'profiles[0].attestation.enrollmentGroupId',
          message: 'required when mode is symmetric-key-group',
        },
      ]),
    );
  });

  it('checks every profile, each with its own path', () => {
    const issues = issuesOf(
      valid({ registrationId: { template: '{lot}-{serial}' }, iotEdge: 1 }),
      valid({ name: 'B', dps: { idScope: 'x' }, registrationId: { template: '{model}' } }),
    );
    expect(issues.map((i) => i.path)).toEqual([
      'profiles[0].iotEdge',
      'profiles[0].registrationId.template',
      'profiles[1].dps.idScope',
      'profiles[1].registrationId.template',
    ]);
  });
});

describe('profile names and models', () => {
  it('refuses a name or a model of only spaces', () => {
    expect(issuesOf(valid({ name: ' ', models: [' \t'] }))).toEqual([
      { path: 'profiles[0].name', message: 'must not be empty or only spaces' },
      { path: 'profiles[0].models[0]', message: 'must not be empty or only spaces' },
    ]);
  });

  it('refuses names that differ only in letter case, since --product picks by either', () => {
    const issues = issuesOf(valid({ name: 'A' }), valid({ name: 'a' }));
    expect(issues).toEqual([
      {
        path: 'profiles[1].name',
        message:
          '"a" differs from profiles[0].name "A" only in letter case or spaces; --product picks profiles ignoring both, so give each a name of its own',
      },
    ]);
  });
});

describe('a profiles file that is not JSON', () => {
  it.each([
    ['a trailing comma in a list', '{"profiles": [\n  {"name": "x"},\n]}', 'line 3, column 1'],
    ['a trailing comma in an object', '{"profiles": [\n  {"name": "x",}\n]}', 'line 2, column 16'],
    ['a missing comma', '{\n  "profiles": []\n  "x": 1\n}', 'line 3, column 3'],
    ['a string not closed on its line', '{"profiles": [\n  {"name": "x\n}]}', 'line 2, column 14'],
    ['text after the end', '{"profiles": []}\n}', 'line 2, column 1'],
    ['an empty file', '', 'line 1, column 1'],
  ])('names the line and column of %s', (_, text, where) => {
    const error = refusal(text);
    expect(error.code).toBe('PROFILE_UNREADABLE');
    expect(error.message).toContain(`line-a.json cannot be used: not valid JSON at ${where}:`);
    // V8's text, with the file quoted over several lines, goes to the detail only.
    expect(error.message).not.toContain('\n');
    expect(error.detail).toBeDefined();
  });

  it('says what to do about a trailing comma', () => {
    expect(refusal('{"profiles": [\n  {"name": "x"},\n]}').issues[0]!.message).toBe(
      'not valid JSON at line 3, column 1: expected a value, found "]" (JSON allows no comma before a closing bracket: remove the last comma)',
    );
  });
});

/*
 * Models and registration IDs a profile could be written with but no line could use: each passed
 * `profiles validate` and then failed every device of the model, or gave two devices one ID.
 */
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
    const error = refusal(text);
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
