import { randomBytes } from 'node:crypto';
import { ekSha256 } from '../../../certs/tpm/ekRegistrationId.js';
import {
  BANK_STAGED,
  CHALLENGE_PREFIX,
  type DeviceInfo,
} from '../../../firmware-bridge/codec/messages.js';
import type {
  DeviceSession,
  RequestOptions,
} from '../../../firmware-bridge/session/deviceSession.js';
import { RunError } from '../runErrors.js';
import type { DpsSettings } from './configureDevice.js';

/**
 * How the station checks that the identity it staged is really on the device: the challenge kind
 * (PROTOCOL.md §4.9) and a check of the device's answer over `LSCHAL1\0 ‖ nonce`.
 */
export interface ChallengeCheck {
  kind: number;
  check(message: Uint8Array, signature: Uint8Array): boolean;
}

const SETTINGS = ['globalEndpoint', 'idScope', 'registrationId'] as const;

/** Reads the staged bank back and compares it with what was written. */
export async function verifyStagedConfig(
  session: DeviceSession,
  expected: DpsSettings,
  options: RequestOptions = {},
): Promise<void> {
  const staged = await session.request('GET_CONFIG', { bank: BANK_STAGED }, options);
  for (const key of SETTINGS) {
    if (staged[key] !== expected[key]) {
      throw new RunError(
        'RUN_VERIFY_CONFIG_MISMATCH',
        `${key}: wrote ${expected[key]}, read ${staged[key] ?? '(unset)'}`,
      );
    }
  }
}

/**
 * Has the device sign a fresh nonce with its staged identity and checks the answer. A fresh
 * nonce per run means an answer recorded from another device or run cannot be replayed.
 */
export async function verifyChallenge(
  session: DeviceSession,
  challenge: ChallengeCheck,
  options: RequestOptions = {},
): Promise<void> {
  const nonce = randomBytes(32);
  const { signature } = await session.request(
    'SIGN_CHALLENGE',
    { nonce, bank: BANK_STAGED, kind: challenge.kind },
    options,
  );
  const message = Buffer.concat([CHALLENGE_PREFIX, nonce]);
  if (!challenge.check(message, signature)) {
    throw new RunError(
      'RUN_VERIFY_CHALLENGE_FAILED',
      `kind ${challenge.kind} challenge answer does not verify`,
    );
  }
}

/**
 * Asks the device who it is again (INFO) and compares it with what identify read. For an identity
 * the device cannot sign with (a TPM's EK) nothing else in verify ties the board on the port to
 * the one the run started on: a board swapped on a port that did not hang up (a USB-serial adapter
 * that stays in the fixture, a serial device server) took the staged settings just as well, and
 * would be committed under the first board's registration ID.
 *
 * With `ekSha256Read` (the EK's hash as validate read it) it reads the EK again too: boards
 * flashed from one cloned image answer INFO alike, so only the TPM soldered to the board tells
 * them apart, and the swapped one would be committed under the first TPM's enrollment, which it
 * can never register with.
 */
export async function verifySameDevice(
  session: DeviceSession,
  identified: DeviceInfo,
  options: RequestOptions = {},
  ekSha256Read?: string,
): Promise<void> {
  const now = await session.identify(options);
  if (now.serialNumber !== identified.serialNumber || now.model !== identified.model) {
    throw new RunError(
      'RUN_DEVICE_CHANGED',
      `identify read ${identified.model} ${identified.serialNumber}; before COMMIT ${now.model} ${now.serialNumber} answered`,
    );
  }
  if (ekSha256Read === undefined) return;
  const { ekPublic } = await session.request('GET_EK', {}, options);
  const ekNow = ekSha256(ekPublic);
  if (ekNow !== ekSha256Read) {
    throw new RunError(
      'RUN_DEVICE_CHANGED',
      `validate read the EK with SHA-256 ${ekSha256Read}; before COMMIT ${now.model} ${now.serialNumber} answered with EK SHA-256 ${ekNow}`,
    );
  }
}
