import { randomBytes } from 'node:crypto';
import { BANK_STAGED, CHALLENGE_PREFIX } from '../../../firmware-bridge/codec/messages.js';
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
