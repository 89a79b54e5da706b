import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_ID_SCOPE, demoProfile } from './demoProfile.js';
import {
  loadProfiles,
  parseProfiles,
  parseProfilesWithNotes,
  ProfileError,
} from './loadProfiles.js';
import { firmwareAllowed, productProfileSchema } from './productProfile.js';

const dir = await mkdtemp(join(tmpdir(), 'ls-profiles-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const valid = () => ({
  name: 'Sensor A',
  models: ['SENSOR-A'],
  dps: { idScope: '0ne0012AB34' },
  attestation: { mode: 'x509-device-key' },
});

/** The ProfileError a profiles file with `profile` in it raises. */
function errorFor(profile: unknown): ProfileError {
  try {
    parseProfiles(JSON.stringify({ profiles: [profile] }), 'line-a.json');
  } catch (err) {
    if (err instanceof ProfileError) return err;
    throw err;
  }
  throw new Error('expected the profile to be refused');
}

describe('product profiles', () => {
  it('the DEMO profile is valid, marked DEMO, and gets the defaults', () => {
    const demo = demoProfile();
    expect(demo.name).toMatch(/DEMO/);
    expect(demo.models).toEqual(['LS-DEMO-1']);
    expect(demo.dps).toEqual({
      globalEndpoint: 'global.azure-devices-provisioning.net',
      idScope: DEMO_ID_SCOPE,
    });
    expect(productProfileSchema.parse(demo)).toEqual(demo);
    const minimal = productProfileSchema.parse(valid());
    expect(minimal).toMatchObject({
      registrationId: { template: '{model}-{serial}' },
      iotEdge: false,
      certificate: { validityDays: 1095 },
      duplicates: 'refuse',
    });
    expect(minimal.firmwareVersions).toBeUndefined();
  });

  it('a TPM profile parses, with the EK-derived registration ID and the EK certificate policy', () => {
    expect(
      productProfileSchema.parse({ ...valid(), attestation: { mode: 'tpm' } }).attestation,
    ).toEqual({
      mode: 'tpm',
    });
    const fromEk = productProfileSchema.parse({
      ...valid(),
      registrationId: { template: '{ek}' },
      attestation: { mode: 'tpm', ekCertificate: 'if-present' },
    });
    expect(fromEk.registrationId.template).toBe('{ek}');
    expect(fromEk.attestation).toEqual({ mode: 'tpm', ekCertificate: 'if-present' });
  });

  it('accepts a DPS endpoint with a port (a local DPS or a plant gateway)', () => {
    for (const globalEndpoint of ['127.0.0.1:8443', 'dps.plant.local:443', 'localhost']) {
      const parsed = productProfileSchema.parse({
        ...valid(),
        dps: { idScope: '0ne0012AB34', globalEndpoint },
      });
      expect(parsed.dps.globalEndpoint).toBe(globalEndpoint);
    }
  });

  it.each([
    [
      { dps: { idScope: '0ne00DEMO00' } },
      'profiles[0].dps.idScope: expected 0ne followed by 8 hex digits',
    ],
    [{ dps: {} }, 'profiles[0].dps.idScope: required'],
    [
      { dps: { idScope: '0ne0012AB34', globalEndpoint: 'not a host!' } },
      'profiles[0].dps.globalEndpoint: expected a host name',
    ],
    [
      { dps: { idScope: '0ne0012AB34', globalEndpoint: 'dps.plant.local:99999' } },
      'profiles[0].dps.globalEndpoint: expected a host name for the DPS global endpoint, optionally with :port',
    ],
    [{ dps: { idScope: '0ne0012AB34', idscope: 'x' } }, 'profiles[0].dps.idscope: unknown field'],
    [{ name: undefined }, 'profiles[0].name: required'],
    [{ models: [] }, 'profiles[0].models: expected at least one model'],
    [{ models: 'SENSOR-A' }, 'profiles[0].models: expected a list of model names'],
    [
      { firmwareVersions: ['1.*.4'] },
      'profiles[0].firmwareVersions[0]: expected an exact version or a prefix pattern',
    ],
    [
      { registrationId: { template: '{model}-{lot}' } },
      'profiles[0].registrationId.template: registration ID template names unknown field {lot}; the fields are {model} and {serial}',
    ],
    [
      { registrationId: { template: '{model}-{sn}' }, attestation: { mode: 'tpm' } },
      'profiles[0].registrationId.template: registration ID template names unknown field {sn}; the fields are {model}, {serial} and {ek}',
    ],
    [
      { models: ['SENSOR-A', 'S'.repeat(60)] },
      `profiles[0].registrationId.template: registration ID "${'s'.repeat(60)}-sn00000001" from template "{model}-{serial}": is 71 characters; at most 64 for X.509 (certificate CN) (model "${'S'.repeat(60)}")`,
    ],
    [
      { registrationId: { template: '{serial}-' + 'x'.repeat(60) } },
      'profiles[0].registrationId.template: registration ID',
    ],
    [
      { registrationId: { template: '{model}-{serial_no}' } },
      'profiles[0].registrationId.template: "{serial_no}" is not a field',
    ],
    [
      { registrationId: { template: '{model}-{serial' } },
      'profiles[0].registrationId.template: "{serial" is not a field',
    ],
    [
      { registrationId: { template: 'sensor-{model}' } },
      'profiles[0].registrationId.template: must name {serial}',
    ],
    [
      { registrationId: { template: '{ek}' } },
      'profiles[0].registrationId.template: {ek} (the ID derived from a TPM endorsement key) applies only to the tpm mode',
    ],
    [
      { registrationId: { template: 'sensor-{model}' }, attestation: { mode: 'tpm' } },
      'profiles[0].registrationId.template: must name {serial} or {ek}',
    ],
    [
      { registrationId: { template: '{model}-{ek' }, attestation: { mode: 'tpm' } },
      'profiles[0].registrationId.template: "{ek" is not a field; write {model}, {serial} or {ek}',
    ],
    [
      { attestation: { mode: 'tpm', ekCertificate: 'optional' } },
      'profiles[0].attestation.ekCertificate: expected required or if-present',
    ],
    [
      { attestation: { mode: 'x509-device-key', ekCertificate: 'required' } },
      'profiles[0].attestation.ekCertificate: applies only to the tpm mode',
    ],
    [
      { attestation: { mode: 'tpm2' } },
      'profiles[0].attestation.mode: expected one of x509-device-key',
    ],
    [
      { attestation: { mode: 'x509-device-key', curve: 'P-521' } },
      'profiles[0].attestation.curve: expected P-256 or P-384',
    ],
    [
      { attestation: { mode: 'symmetric-key-individual', curve: 'P-256' } },
      'profiles[0].attestation.curve: applies only to the x509 modes',
    ],
    [
      { attestation: { mode: 'symmetric-key-group' } },
      'profiles[0].attestation.enrollmentGroupId: required when mode is symmetric-key-group',
    ],
    [
      { attestation: { mode: 'symmetric-key-group', enrollmentGroupId: 'Group A' } },
      'profiles[0].attestation.enrollmentGroupId: expected lower-case',
    ],
    [{ iotHubs: ['hub a'] }, 'profiles[0].iotHubs[0]: expected a host name'],
    [
      { iotHubs: ['hub-a.azure-devices.net', 'myhub'] },
      'profiles[0].iotHubs[1]: expected the IoT hub\'s host name, not its name alone: write "myhub.azure-devices.net"',
    ],
    [
      { dps: { idScope: '0NE00AB12CD' } },
      'profiles[0].dps.idScope: expected "0ne" in lower case at the start: write "0ne00AB12CD"',
    ],
    [
      { dps: { idScope: '0ne0012AB34', globalEndpoint: 'https://dps.example.net/enroll' } },
      'profiles[0].dps.globalEndpoint: expected the host name only, not a URL: write "dps.example.net"',
    ],
    [
      { allocationPolicy: 'random' },
      'profiles[0].allocationPolicy: expected hashed, geoLatency or static',
    ],
    [{ initialTwin: { tags: 'line-a' } }, 'profiles[0].initialTwin.tags: expected a JSON object'],
    [{ initialTwin: { desired: {} } }, 'profiles[0].initialTwin.desired: unknown field'],
    [{ iotEdge: 'yes' }, 'profiles[0].iotEdge: expected true or false'],
    [
      { certificate: { validityDays: 0 } },
      'profiles[0].certificate.validityDays: expected at least 1 day',
    ],
    [
      { certificate: { validityDays: 1.5 } },
      'profiles[0].certificate.validityDays: expected a whole number',
    ],
    [{ duplicates: 'allow' }, 'profiles[0].duplicates: expected refuse or reprovision'],
  ])('%j is refused with "%s"', (change, expected) => {
    const error = errorFor({ ...valid(), ...change });
    expect(error.code).toBe('PROFILE_INVALID');
    expect(error.message).toContain('line-a.json');
    expect(error.message).toContain(expected);
  });

  it('reads an https URL as the DPS endpoint as its host name, and notes it', () => {
    const written = 'https://global.azure-devices-provisioning.net/';
    const loaded = parseProfilesWithNotes(
      JSON.stringify({
        profiles: [
          valid(),
          { ...valid(), name: 'B', dps: { ...valid().dps, globalEndpoint: written } },
        ],
      }),
      'f.json',
    );
    expect(loaded.profiles[1]!.dps.globalEndpoint).toBe('global.azure-devices-provisioning.net');
    expect(loaded.notes).toEqual([
      {
        path: 'profiles[1].dps.globalEndpoint',
        message: `"${written}" is a URL; devices are given its host name, global.azure-devices-provisioning.net`,
      },
    ]);
  });

  it('refuses a file without profiles and two profiles with one name', () => {
    expect(() => parseProfiles('{"profiles": []}', 'f.json')).toThrow(
      'profiles: expected at least one profile',
    );
    expect(() => parseProfiles('[]', 'f.json')).toThrow(
      /expected an object with a "profiles" list/,
    );
    expect(() => parseProfiles(JSON.stringify({ profiles: [valid(), valid()] }), 'f.json')).toThrow(
      'profiles[1].name: another profile is already named "Sensor A"',
    );
  });

  it('names line and column of broken JSON, and the file', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{"profiles": [\n  {"name": "x",}\n]}');
    const error = await loadProfiles(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProfileError);
    expect(error).toMatchObject({ code: 'PROFILE_UNREADABLE' });
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('not valid JSON at line 2, column 16');

    await writeFile(path, '{"profiles": [');
    await expect(loadProfiles(path)).rejects.toThrow('not valid JSON at line 1, column 15');
  });

  it('reads a file saved as UTF-8 with a byte order mark (Windows PowerShell, Notepad)', async () => {
    const path = join(dir, 'bom.json');
    await writeFile(path, `\uFEFF${JSON.stringify({ profiles: [valid()] }, null, 2)}`);
    expect((await loadProfiles(path)).map((p) => p.name)).toEqual(['Sensor A']);
  });

  it('says when the file cannot be read, and loads a good one', async () => {
    const missing = join(dir, 'missing.json');
    await expect(loadProfiles(missing)).rejects.toMatchObject({
      code: 'PROFILE_UNREADABLE',
      message: expect.stringContaining(
        `${missing} cannot be used: the file cannot be read (ENOENT)`,
      ),
    });
    const path = join(dir, 'good.json');
    await writeFile(path, JSON.stringify({ profiles: [valid(), { ...valid(), name: 'B' }] }));
    expect((await loadProfiles(path)).map((p) => p.name)).toEqual(['Sensor A', 'B']);
  });

  it('matches firmware versions exactly or by prefix pattern', () => {
    const profile = productProfileSchema.parse({
      ...valid(),
      firmwareVersions: ['1.4.*', '2.0.0'],
    });
    expect(firmwareAllowed(profile, '1.4.0')).toBe(true);
    expect(firmwareAllowed(profile, '1.4.12-rc1')).toBe(true);
    expect(firmwareAllowed(profile, '1.40.0')).toBe(false);
    expect(firmwareAllowed(profile, '2.0.0')).toBe(true);
    expect(firmwareAllowed(profile, '2.0.01')).toBe(false);
    expect(firmwareAllowed(productProfileSchema.parse(valid()), 'anything')).toBe(true);
  });
});
