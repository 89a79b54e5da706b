import { randomBytes, X509Certificate } from 'node:crypto';
import { ekSha256 } from '../../certs/tpm/ekRegistrationId.js';
import {
  BANK_COMMITTED,
  CHALLENGE_KIND_SYMMETRIC,
  CHALLENGE_PREFIX,
} from '../../firmware-bridge/codec/messages.js';
import type { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import { templateOptions } from '../profiles/attestationModes.js';
import { leafKeyChallenge } from './attestation/x509Identity.js';
import type { ChallengeCheck } from './steps/verifyDevice.js';
import type { PortPass, RunRecorder } from './runRecorder.js';

/** INFO's identity state of a device with a committed X.509 identity key (PROTOCOL.md §4.1). */
export const IDENTITY_COMMITTED = 1;

/**
 * The last PASS of each port, read once as a line starts. A line stopped and started again (a
 * restart, an update, a power cut) finds the boards it passed still on the fixture: auto mode
 * would run each again, and its duplicate policy would fail good boards (refuse) or re-key them,
 * spending a certificate and a DPS operation on each (reprovision). Empty when the store cannot
 * say: the line then runs them as before.
 */
export function passesBeforeStart(recorder: RunRecorder): Map<string, PortPass> {
  try {
    return new Map((recorder.lastPassesByPort?.() ?? []).map((pass) => [pass.port, pass]));
  } catch {
    return new Map();
  }
}

/**
 * The log's line for a board the restart check left alone (Slot.confirmEarlierPass): its slot
 * shows a PASS that no run of this start made, so the runs' lines (runEndedText) never name it,
 * and a log read after the shift would show an idle port. Says how to have the board run again.
 */
export function earlierPassKeptText(slot: number, port: string, pass: PortPass): string {
  const board = `${pass.serialNumber} (${pass.model})`;
  return `slot ${slot} ${port}: PASS kept, ${board} still holds ${pass.registrationId} from run ${pass.runId}, so the restarted line runs nothing on it; to run it again, unplug it and plug it back.`;
}

/**
 * Whether the device on the port is the board its last run passed, still holding what that run
 * gave it: the same serial number and model, that run's registration ID in its committed DPS
 * settings, and that run's credential:
 * - X.509: identity state 1 (PROTOCOL.md §4.1), and the committed identity key signs a fresh
 *   challenge that the leaf the run issued verifies;
 * - symmetric key: identity state 0 and a committed symmetric key, which answers an HMAC
 *   challenge on the committed bank. The answer is not checked (the group key or the sealed
 *   individual key is not at hand here): a board re-keyed since by a run whose record the store
 *   refused is taken for it too;
 * - TPM: identity state 0 and the EK that run enrolled.
 * INFO, GET_CONFIG, SIGN_CHALLENGE and GET_EK only read: nothing is written to a board this
 * decides to leave alone. A device error (BAD_STATE: no symmetric key) rejects, and the caller
 * runs the board.
 */
export async function holdsEarlierPass(
  session: DeviceSession,
  pass: PortPass,
  signal: AbortSignal,
): Promise<boolean> {
  const info = await session.identify({ signal });
  const sameBoard = info.serialNumber === pass.serialNumber && info.model === pass.model;
  const x509 = templateOptions(pass.attestation).x509;
  if (!sameBoard || info.identityState !== (x509 ? IDENTITY_COMMITTED : 0)) return false;
  const committed = await session.request('GET_CONFIG', { bank: BANK_COMMITTED }, { signal });
  if (committed.registrationId !== pass.registrationId) return false;
  if (pass.attestation === 'tpm') {
    if (pass.ekSha256 === undefined || !info.features.tpm) return false;
    const { ekPublic } = await session.request('GET_EK', {}, { signal });
    return ekSha256(ekPublic) === pass.ekSha256;
  }
  if (x509 && pass.certificateDer === undefined) return false;
  const leaf = x509 ? leafChallengeOf(pass.certificateDer!) : undefined;
  const nonce = randomBytes(32);
  const { signature } = await session.request(
    'SIGN_CHALLENGE',
    { nonce, bank: BANK_COMMITTED, kind: leaf?.kind ?? CHALLENGE_KIND_SYMMETRIC },
    { signal },
  );
  // A symmetric key's answer is not checked (above): that the committed bank has one is asked.
  return leaf === undefined || leaf.check(Buffer.concat([CHALLENGE_PREFIX, nonce]), signature);
}

/** The check of a challenge answered by the key of leaf `certificateDer` (P-256 or P-384). */
function leafChallengeOf(certificateDer: Uint8Array): ChallengeCheck {
  const key = new X509Certificate(certificateDer).publicKey;
  const curve = key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'P-384' : 'P-256';
  return leafKeyChallenge(key, curve);
}
