import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  softwareTpmMissing,
  startSoftwareTpm,
  type SoftwareTpm,
} from '../../certs/testing/softwareTpm.js';
import { deviceRegistrationSasToken } from '../../dps/auth/sas.js';
import { registerDevice, type DeviceTpm } from '../../dps/device/registrationClient.js';
import { DpsError } from '../../dps/dpsErrors.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { call } from '../../dps/emulator/emulatorTestKit.js';

/**
 * TPM devices register with the local DPS emulator as with DPS (dps-protocol.md §2.5): a real
 * TPM (swtpm, read and driven with tpm2-tools) takes the emulator's challenge, opens the identity
 * key sealed to its EK and SRK, and signs its token with it; the device client is the station's
 * own (dps/device). A device that only copied an enrolled EK, or whose EK is not enrolled, does
 * not get in.
 */

type Json = Record<string, unknown>;

let emulator: DpsEmulator;
let enrolled: SoftwareTpm | undefined;
let other: SoftwareTpm | undefined;

beforeAll(async () => {
  // `npm test` installs the tools first: missing, they fail the suite rather than skip it.
  if (softwareTpmMissing !== undefined) throw new Error(softwareTpmMissing);
  emulator = await startDpsEmulator({ rateLimit: false });
  // Settled, not all: a TPM that did start is kept for afterAll to stop if the other failed.
  const started = await Promise.allSettled([startSoftwareTpm(), startSoftwareTpm()]);
  [enrolled, other] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
  for (const s of started) if (s.status === 'rejected') throw s.reason;
}, 120_000);

afterAll(async () => {
  await Promise.all([enrolled?.stop(), other?.stop(), emulator?.close()]);
});

async function enrollTpm(registrationId: string, tpm: DeviceTpm, extra: Json = {}): Promise<void> {
  const endorsementKey = Buffer.from(await tpm.endorsementKey()).toString('base64');
  const reply = await call(emulator, 'PUT', `/enrollments/${registrationId}`, {
    body: { registrationId, attestation: { type: 'tpm', tpm: { endorsementKey } }, ...extra },
    headers: { 'if-match': '*' },
  });
  expect(reply.status).toBe(200);
}

const register = (registrationId: string, tpm: DeviceTpm) =>
  registerDevice({
    globalEndpoint: emulator.hostName,
    idScope: emulator.idScope,
    registrationId,
    auth: { kind: 'tpm', tpm },
    ca: emulator.caCertificatePem,
    maxPollDelayMs: 100,
  });

async function refusal(promise: Promise<unknown>): Promise<DpsError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DpsError);
  return err as DpsError;
}

/** The body a TPM device sends in its register PUT. */
async function tpmBody(registrationId: string, tpm: DeviceTpm): Promise<Json> {
  return {
    registrationId,
    tpm: {
      endorsementKey: Buffer.from(await tpm.endorsementKey()).toString('base64'),
      storageRootKey: Buffer.from(await tpm.storageRootKey()).toString('base64'),
    },
  };
}

describe('TPM registration with the DPS emulator, a real TPM on the device side', () => {
  it('assigns an enrolled TPM once it signs its token with the identity key sealed to it', async () => {
    await enrollTpm('tpm-dev-1', enrolled!, { deviceId: 'line-1-tpm' });
    const result = await register('tpm-dev-1', enrolled!);
    expect(result).toMatchObject({ status: 'assigned', deviceId: 'line-1-tpm' });
    expect(result.assignedHub).toMatch(/azure-devices\.net$/);
    const tpmState = result.registrationState['tpm'] as { authenticationKey?: string };
    expect(tpmState.authenticationKey).toMatch(/^[A-Za-z0-9+/]+=*$/);

    const state = await call(emulator, 'GET', '/registrations/tpm-dev-1');
    expect(state.body).toMatchObject({ status: 'assigned', deviceId: 'line-1-tpm' });
    // A second registration takes a new challenge and a new key, and is assigned again.
    const again = await register('tpm-dev-1', enrolled!);
    expect(again.status).toBe('assigned');
    const againKey = (again.registrationState['tpm'] as { authenticationKey: string })
      .authenticationKey;
    expect(againKey).not.toBe(tpmState.authenticationKey);
  });

  it('refuses a device that presents an enrolled EK its own TPM does not hold (a copied EK)', async () => {
    await enrollTpm('tpm-dev-copied', enrolled!);
    const copier: DeviceTpm = {
      endorsementKey: () => enrolled!.endorsementKey(),
      storageRootKey: () => other!.storageRootKey(),
      activateIdentityKey: (blob) => other!.activateIdentityKey(blob),
      signWithIdentity: (data) => other!.signWithIdentity(data),
    };
    const err = await refusal(register('tpm-dev-copied', copier));
    expect(err.code).toBe('DPS_REGISTRATION_FAILED');
    expect(err.detail).toMatch(/TPM could not import the identity key/);
  });

  it('refuses a TPM whose EK is not the one enrolled, and one with no enrollment', async () => {
    await enrollTpm('tpm-dev-2', enrolled!);
    const wrongEk = await refusal(register('tpm-dev-2', other!));
    expect(wrongEk).toMatchObject({ code: 'DPS_REGISTRATION_FAILED', status: 401 });
    expect(wrongEk.detail).toMatch(/endorsement key is not the one enrolled/);

    const unknown = await refusal(register('tpm-dev-nobody', other!));
    expect(unknown).toMatchObject({ code: 'DPS_REGISTRATION_FAILED', status: 401 });
    expect(unknown.detail).toMatch(/no TPM enrollment/);
  });

  it('attests a TPM of a disabled enrollment, as DPS does, and ends its registration disabled', async () => {
    await enrollTpm('tpm-dev-off', enrolled!, { provisioningStatus: 'disabled' });
    const err = await refusal(register('tpm-dev-off', enrolled!));
    // The challenge and the signed PUT pass (202); the operation ends `disabled`, with no hub.
    expect(err).toMatchObject({ code: 'DPS_REGISTRATION_FAILED', status: 200 });
    expect(err.detail).toMatch(/registration disabled/);
  });

  it('answers the challenge only to a device with no token, and takes no token but the TPM’s', async () => {
    await enrollTpm('tpm-dev-3', enrolled!);
    const path = `/${emulator.idScope}/registrations/tpm-dev-3/register`;
    const body = await tpmBody('tpm-dev-3', enrolled!);

    // Before any challenge, even a well-formed token cannot be checked against a key.
    const early = await call(emulator, 'PUT', path, {
      body,
      auth: deviceRegistrationSasToken(emulator.idScope, 'tpm-dev-3', key(), inAnHour()),
    });
    expect(early.status).toBe(401);
    expect((early.body as Json).message).toMatch(/no TPM challenge is open/);

    const challenge = await call(emulator, 'PUT', path, { body, auth: false });
    expect(challenge.status).toBe(401);
    expect(challenge.body).toMatchObject({ keyName: 'registration' });
    expect((challenge.body as Json).authenticationKey).toEqual(expect.any(String));

    // A token signed by anything but the sealed key is refused, however well formed.
    const forged = await call(emulator, 'PUT', path, {
      body,
      auth: deviceRegistrationSasToken(emulator.idScope, 'tpm-dev-3', key(), inAnHour()),
    });
    expect(forged.status).toBe(401);
    expect((forged.body as Json).message).toMatch(/not signed with the identity key/);
  });

  it('refuses a register body whose TPM keys are not TPM2B_PUBLIC areas', async () => {
    await enrollTpm('tpm-dev-4', enrolled!);
    const path = `/${emulator.idScope}/registrations/tpm-dev-4/register`;
    const body = await tpmBody('tpm-dev-4', enrolled!);
    const notBase64 = await call(emulator, 'PUT', path, {
      body: { ...body, tpm: { ...(body.tpm as Json), storageRootKey: 'not base64!' } },
      auth: false,
    });
    expect(notBase64.status).toBe(400);
    const garbageSrk = await call(emulator, 'PUT', path, {
      body: { ...body, tpm: { ...(body.tpm as Json), storageRootKey: key() } },
      auth: false,
    });
    expect(garbageSrk.status).toBe(400);
    expect((garbageSrk.body as Json).message).toMatch(/TPM attestation/);
  });
});

function key(): string {
  return randomBytes(32).toString('base64');
}

function inAnHour(): number {
  return Math.floor(Date.now() / 1000) + 3600;
}
