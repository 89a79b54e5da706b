import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceRegistrationSasToken, parseSasToken, type SasFields } from '../auth/sas.js';
import type { IndividualEnrollment } from '../service/serviceTypes.js';
import { openIdentityKeyBlob } from '../testing/tpmSoftwareActivation.js';
import { EK_ATTRIBUTES, EK_POLICY, rsaPublicArea } from '../testing/tpmTestKeys.js';
import { type DpsEmulator, startDpsEmulator } from './dpsEmulator.js';
import { call, type EmulatorReply } from './emulatorTestKit.js';
import { EmulatorStore } from './emulatorStore.js';
import { TpmIdentities } from './tpmIdentities.js';

/**
 * The emulator's TPM rules (dps-protocol.md §2.5) with the device's TPM done in software from
 * its EK's and SRK's private keys (dps/testing/tpmSoftwareActivation.ts), so each rule is reached
 * directly; test/e2e/tpmRegistration.test.ts runs the same exchange with a real TPM.
 */

type Json = Record<string, unknown>;

interface SoftwareTpm {
  ekPublic: Uint8Array;
  srkPublic: Uint8Array;
  open(authenticationKey: string): string;
}

function softwareTpm(ek = rsaKeys()): SoftwareTpm {
  const srk = rsaKeys();
  const ekPublic = rsaPublicArea(ek.publicKey, {
    attributes: EK_ATTRIBUTES,
    authPolicy: EK_POLICY,
  });
  const srkPublic = rsaPublicArea(srk.publicKey);
  return {
    ekPublic,
    srkPublic,
    open: (authenticationKey) =>
      Buffer.from(
        openIdentityKeyBlob(Buffer.from(authenticationKey, 'base64'), {
          ekPrivate: ek.privateKey,
          srkPrivate: srk.privateKey,
          srkPublic,
        }),
      ).toString('base64'),
  };
}

function rsaKeys(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

let emulator: DpsEmulator;
beforeAll(async () => {
  emulator = await startDpsEmulator({ rateLimit: false });
});
afterAll(() => emulator.close());

async function enroll(registrationId: string, ekPublic: Uint8Array, extra: Json = {}) {
  const reply = await call(emulator, 'PUT', `/enrollments/${registrationId}`, {
    body: {
      registrationId,
      attestation: { type: 'tpm', tpm: { endorsementKey: b64(ekPublic) } },
      ...extra,
    },
    headers: { 'if-match': '*' },
  });
  expect(reply.status).toBe(200);
}

/** The device's register PUT: no token asks for the challenge. */
function put(registrationId: string, tpm: SoftwareTpm, token?: string): Promise<EmulatorReply> {
  return call(emulator, 'PUT', `/${emulator.idScope}/registrations/${registrationId}/register`, {
    body: {
      registrationId,
      tpm: { endorsementKey: b64(tpm.ekPublic), storageRootKey: b64(tpm.srkPublic) },
    },
    auth: token ?? false,
  });
}

/** Takes the challenge and returns the token the TPM signs with the key it opened. */
async function challengeAndSign(registrationId: string, tpm: SoftwareTpm) {
  const challenge = await put(registrationId, tpm);
  expect(challenge.status).toBe(401);
  const { authenticationKey } = challenge.body as { authenticationKey: string };
  const token = deviceRegistrationSasToken(
    emulator.idScope,
    registrationId,
    tpm.open(authenticationKey),
    inAnHour(),
  );
  return { authenticationKey, token };
}

const message = (reply: EmulatorReply) => (reply.body as { message?: string }).message;

describe('TPM registration with the emulator', () => {
  it('assigns a device whose TPM opens the key, and repeats that key in the poll and the status', async () => {
    const tpm = softwareTpm();
    await enroll('tpm-sw-1', tpm.ekPublic);
    const { authenticationKey, token } = await challengeAndSign('tpm-sw-1', tpm);
    const registered = await put('tpm-sw-1', tpm, token);
    expect(registered.status).toBe(202);
    const base = `/${emulator.idScope}/registrations/tpm-sw-1`;
    const { operationId } = registered.body as { operationId: string };
    const poll = await call(emulator, 'GET', `${base}/operations/${operationId}`, { auth: token });
    expect(poll.status).toBe(200);
    expect(poll.body).toMatchObject({
      status: 'assigned',
      registrationState: { tpm: { authenticationKey }, status: 'assigned' },
    });
    const status = await call(emulator, 'POST', base, { auth: token, body: {} });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ tpm: { authenticationKey }, status: 'assigned' });
  });

  it('keeps a registering device’s key when someone else asks for a challenge in its name', async () => {
    const tpm = softwareTpm();
    await enroll('tpm-sw-2', tpm.ekPublic);
    const { authenticationKey, token } = await challengeAndSign('tpm-sw-2', tpm);
    const registered = await put('tpm-sw-2', tpm, token);
    expect(registered.status).toBe(202);
    // The EK is public: four challenges with other SRKs, as many as a registration keeps.
    for (let i = 0; i < 4; i++) {
      const intruder = { ...softwareTpm(), ekPublic: tpm.ekPublic };
      expect((await put('tpm-sw-2', intruder)).status).toBe(401);
    }
    // And a replay of the device's own EK and SRK, both public: a challenge, nothing more.
    expect((await put('tpm-sw-2', tpm)).status).toBe(401);
    const base = `/${emulator.idScope}/registrations/tpm-sw-2`;
    const { operationId } = registered.body as { operationId: string };
    const poll = await call(emulator, 'GET', `${base}/operations/${operationId}`, { auth: token });
    expect(poll.status).toBe(200);
    expect(poll.body).toMatchObject({ registrationState: { tpm: { authenticationKey } } });
    const status = await call(emulator, 'POST', base, { auth: token, body: {} });
    expect(status.body).toMatchObject({ tpm: { authenticationKey } });
  });

  it('takes the registration ID in any case, as it stores it in lower case', async () => {
    const tpm = softwareTpm();
    await enroll('tpm-sw-case', tpm.ekPublic);
    const { token } = await challengeAndSign('TPM-SW-CASE', tpm);
    expect((await put('TPM-SW-CASE', tpm, token)).status).toBe(202);
  });

  it('refuses a token after the enrollment changed its EK or was deleted; disabled, it registers disabled', async () => {
    const tpm = softwareTpm();
    await enroll('tpm-sw-3', tpm.ekPublic);
    const { token } = await challengeAndSign('tpm-sw-3', tpm);
    await enroll('tpm-sw-3', softwareTpm().ekPublic);
    const changed = await put('tpm-sw-3', tpm, token);
    expect(changed.status).toBe(401);
    expect(message(changed)).toMatch(/enrollment changed since the challenge/);

    // Disabled: DPS still challenges and attests the TPM, then ends the registration disabled.
    await enroll('tpm-sw-3', tpm.ekPublic, { provisioningStatus: 'disabled' });
    const { token: disabledToken } = await challengeAndSign('tpm-sw-3', tpm);
    const disabled = await put('tpm-sw-3', tpm, disabledToken);
    expect(disabled.status).toBe(202);
    const { operationId } = disabled.body as { operationId: string };
    const poll = await call(
      emulator,
      'GET',
      `/${emulator.idScope}/registrations/tpm-sw-3/operations/${operationId}`,
      { auth: disabledToken },
    );
    expect(poll.status).toBe(200);
    expect(poll.body).toMatchObject({
      status: 'disabled',
      registrationState: { registrationId: 'tpm-sw-3', status: 'disabled' },
    });
    expect((poll.body as { registrationState: Json }).registrationState).not.toHaveProperty(
      'assignedHub',
    );

    const deleted = await call(emulator, 'DELETE', '/enrollments/tpm-sw-3', {
      headers: { 'if-match': '*' },
    });
    expect(deleted.status).toBe(204);
    expect((await put('tpm-sw-3', tpm, token)).status).toBe(401);
  });

  it('refuses a token signed with the key another registration’s challenge sealed', async () => {
    const tpm = softwareTpm();
    const other = softwareTpm();
    await enroll('tpm-sw-4', tpm.ekPublic);
    await enroll('tpm-sw-5', other.ekPublic);
    const { authenticationKey } = await challengeAndSign('tpm-sw-4', tpm);
    await challengeAndSign('tpm-sw-5', other); // a challenge is open there too
    const key = tpm.open(authenticationKey);
    const borrowed = deviceRegistrationSasToken(emulator.idScope, 'tpm-sw-5', key, inAnHour());
    const reply = await put('tpm-sw-5', other, borrowed);
    expect(reply.status).toBe(401);
    expect(message(reply)).toMatch(/not signed with the identity key/);
  });
});

describe('TpmIdentities', () => {
  const store = EmulatorStore.open('memory');
  const ekKeys = rsaKeys();
  // One TPM's EK; each "device" below holds it with an SRK of its own.
  const tpm = softwareTpm(ekKeys);
  const enrollment: IndividualEnrollment = {
    registrationId: 'tpm-unit-1',
    attestation: { type: 'tpm', tpm: { endorsementKey: b64(tpm.ekPublic) } },
  } as IndividualEnrollment;
  store.put('enrollments', 'tpm-unit-1', '"e1"', enrollment);
  const presented = (device: SoftwareTpm) => ({
    endorsementKey: b64(tpm.ekPublic),
    storageRootKey: b64(device.srkPublic),
  });
  const tokenFor = (device: SoftwareTpm, reply: { body?: unknown }): SasFields =>
    parseSasToken(
      deviceRegistrationSasToken(
        'scope',
        'tpm-unit-1',
        device.open((reply.body as { authenticationKey: string }).authenticationKey),
        inAnHour(),
      ),
    )!;

  it('forgets an identity after an hour', () => {
    let now = 1_000_000;
    const identities = new TpmIdentities(store, () => now);
    const token = tokenFor(tpm, identities.challenge('tpm-unit-1', presented(tpm)));
    expect(identities.verify('tpm-unit-1', enrollment, token).used).toBe(true);
    now += 60 * 60 * 1000;
    expect(() => identities.verify('tpm-unit-1', enrollment, token)).toThrow(
      /no TPM challenge is open/,
    );
  });

  it('makes room from identities no token used, the oldest first', () => {
    const identities = new TpmIdentities(store);
    const devices = Array.from({ length: 5 }, () => softwareTpm(ekKeys));
    // Device 1 is the one registering; 2–5 only asked.
    const used = tokenFor(devices[1]!, identities.challenge('tpm-unit-1', presented(devices[1]!)));
    identities.verify('tpm-unit-1', enrollment, used);
    const waiting = tokenFor(
      devices[0]!,
      identities.challenge('tpm-unit-1', presented(devices[0]!)),
    );
    for (const device of devices.slice(2)) identities.challenge('tpm-unit-1', presented(device));
    // Four kept: the used one and the three newest; the oldest unused one made room.
    expect(identities.verify('tpm-unit-1', enrollment, used).used).toBe(true);
    expect(() => identities.verify('tpm-unit-1', enrollment, waiting)).toThrow(
      /not signed with the identity key/,
    );
  });
});
