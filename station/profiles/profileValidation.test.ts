/**
 * A profiles file is checked in one pass: every problem the station can find is reported at
 * once, each with its field path, so a supervisor is not sent back to the file once per wave.
 */
import { describe, expect, it } from 'vitest';
import { parseProfiles, ProfileError, type ProfileIssue } from './loadProfiles.js';

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
