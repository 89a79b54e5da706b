/**
 * Profiles that would validate but make DPS refuse every enrollment at sync (after every device
 * showed PASS), or whose settings DPS would silently drop, are refused when the file is loaded,
 * each problem named by its field. Every case goes through the loader with a real file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProfiles, ProfileError, type ProfileIssue } from './loadProfiles.js';

const dir = await mkdtemp(join(tmpdir(), 'ls-enrollment-settings-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const valid = (change: Record<string, unknown> = {}) => ({
  name: 'Sensor A',
  models: ['SENSOR-A'],
  dps: { idScope: '0ne0012AB34' },
  attestation: { mode: 'x509-device-key' },
  ...change,
});

const group = { mode: 'symmetric-key-group', enrollmentGroupId: 'line-a-group' };
const HUB = 'hub-a.azure-devices.net';

let files = 0;
/** Writes a profiles file holding `profile` and loads it. */
async function load(profile: unknown) {
  const path = join(dir, `profiles-${++files}.json`);
  await writeFile(path, JSON.stringify({ profiles: [profile] }, null, 2));
  return loadProfiles(path);
}

/** The issues of the PROFILE_INVALID error that loading `profile` raises. */
async function refused(profile: unknown): Promise<ProfileIssue[]> {
  const error = await load(profile).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ProfileError);
  expect(error).toMatchObject({ code: 'PROFILE_INVALID' });
  return (error as ProfileError).issues.slice();
}

describe('allocationPolicy', () => {
  it('refuses custom (its webhook URL holds a secret key), naming the supported policies', async () => {
    const issues = await refused(valid({ allocationPolicy: 'custom' }));
    expect(issues).toEqual([
      {
        path: 'profiles[0].allocationPolicy',
        message: expect.stringContaining(
          'custom allocation is not supported by the station',
        ) as string,
      },
    ]);
    expect(issues[0]!.message).toContain('use hashed, geoLatency or static');
  });

  it('refuses an unknown policy with the list, and loads hashed and geoLatency', async () => {
    expect(await refused(valid({ allocationPolicy: 'random' }))).toEqual([
      { path: 'profiles[0].allocationPolicy', message: 'expected hashed, geoLatency or static' },
    ]);
    for (const allocationPolicy of ['hashed', 'geoLatency']) {
      const [profile] = await load(valid({ allocationPolicy, iotHubs: [HUB, 'hub-b.example'] }));
      expect(profile!.allocationPolicy).toBe(allocationPolicy);
    }
  });
});

describe('iotHubs', () => {
  it('static: loads exactly one hub, and refuses two hubs or none', async () => {
    const [one] = await load(valid({ allocationPolicy: 'static', iotHubs: [HUB] }));
    expect(one!.iotHubs).toEqual([HUB]);
    expect(
      await refused(
        valid({ allocationPolicy: 'static', iotHubs: [HUB, 'hub-b.azure-devices.net'] }),
      ),
    ).toEqual([
      {
        path: 'profiles[0].iotHubs',
        message: expect.stringContaining(
          'static allocation needs exactly one hub, and iotHubs lists 2',
        ) as string,
      },
    ]);
    expect(await refused(valid({ allocationPolicy: 'static' }))).toEqual([
      {
        path: 'profiles[0].iotHubs',
        message: expect.stringContaining('static allocation needs exactly one hub') as string,
      },
    ]);
  });

  it('refuses one hub written twice in different case, for static and for every other policy', async () => {
    for (const allocationPolicy of ['static', 'hashed', undefined]) {
      const issues = await refused(
        valid({ allocationPolicy, iotHubs: [HUB, 'HUB-A.azure-devices.net'] }),
      );
      expect(issues).toEqual([
        {
          path: 'profiles[0].iotHubs',
          message: `iotHubs[1] "HUB-A.azure-devices.net" is iotHubs[0] "${HUB}" again (DPS ignores letter case in hub names): list each hub once`,
        },
      ]);
    }
  });

  it('refuses a hub with a dot at the end, or an IP address, asking for the host name', async () => {
    expect(await refused(valid({ iotHubs: [`${HUB}.`] }))).toEqual([
      {
        path: 'profiles[0].iotHubs[0]',
        message: `has a dot at the end, which no linked hub's host name has: write "${HUB}"`,
      },
    ]);
    for (const address of ['10.0.0.1', 'https://10.0.0.1/', '[::1]']) {
      const issues = await refused(valid({ iotHubs: [HUB, address] }));
      expect(issues).toEqual([
        {
          path: 'profiles[0].iotHubs[1]',
          message: expect.stringContaining(
            "expected the IoT hub's host name, not an IP address",
          ) as string,
        },
      ]);
      expect(issues[0]!.message).toContain('such as myhub.azure-devices.net');
    }
  });
});

describe('a symmetric-key-group profile', () => {
  it.each([
    ['initialTwin', { initialTwin: { tags: { line: 'a' } } }],
    ['iotHubs', { iotHubs: [HUB] }],
    ['allocationPolicy', { allocationPolicy: 'hashed' }],
    ['iotEdge', { iotEdge: true }],
  ])('refuses %s, which the DPS enrollment group sets', async (field, change) => {
    const issues = await refused(valid({ attestation: group, ...change }));
    expect(issues).toEqual([
      {
        path: `profiles[0].${field}`,
        message: expect.stringContaining('set it on the DPS enrollment group') as string,
      },
    ]);
  });

  it('loads without them, and with iotEdge false (its default) written out', async () => {
    const [plain] = await load(valid({ attestation: group }));
    expect(plain!.iotEdge).toBe(false);
    expect(plain!.allocationPolicy).toBeUndefined();
    const [edgeOff] = await load(valid({ attestation: group, iotEdge: false }));
    expect(edgeOff!.attestation).toEqual(group);
  });
});

describe('attestation.enrollmentGroupId', () => {
  it.each([['x509-device-key'], ['x509-station-key'], ['symmetric-key-individual'], ['tpm']])(
    'is refused for %s',
    async (mode) => {
      const issues = await refused(
        valid({
          attestation: { mode, enrollmentGroupId: 'line-a-group' },
          ...(mode === 'tpm' ? { registrationId: { template: '{ek}' } } : {}),
        }),
      );
      expect(issues).toEqual([
        {
          path: 'profiles[0].attestation.enrollmentGroupId',
          message: `applies only to symmetric-key-group, not ${mode}: remove it`,
        },
      ]);
    },
  );
});
