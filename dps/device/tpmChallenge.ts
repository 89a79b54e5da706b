import { sasTokenText } from '../auth/sas.js';
import { DpsError } from '../dpsErrors.js';
import { isRecord } from '../http/dpsResponse.js';
import type { HttpsExchangeResponse } from '../http/httpsExchange.js';
import type { DeviceTpm } from './registrationTypes.js';

/**
 * The device half of DPS's TPM attestation (dps-protocol.md §2.5). A TPM device's first PUT
 * carries no credential; DPS answers 401 with an `authenticationKey`, a fresh identity key that
 * only the TPM holding the enrolled EK (and the SRK the device sent) can import. The device signs
 * its SAS token with that key inside the TPM and sends the PUT again.
 */
export interface TpmChallenge {
  /** The decoded blob: credential, wrapped seeds, the duplicated identity key and its public area. */
  authenticationKey: Uint8Array;
  /** The token's `skn`; the C SDK takes it from here, DPS sends `registration`. */
  keyName: string;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const KEY_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** DPS's blob for an RSA-2048 EK and SRK is about 800 bytes; anything far larger is not one. */
const MAX_AUTHENTICATION_KEY_CHARS = 16 * 1024;

/** DPS's challenge in a 401 answer, or undefined when the 401 is a refusal without one. */
export function readTpmChallenge(response: HttpsExchangeResponse): TpmChallenge | undefined {
  if (response.status !== 401) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(response.body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isRecord(body)) return undefined;
  const key = body['authenticationKey'];
  if (typeof key !== 'string' || key.length > MAX_AUTHENTICATION_KEY_CHARS || !BASE64.test(key)) {
    return undefined;
  }
  const keyName = body['keyName'];
  return {
    authenticationKey: new Uint8Array(Buffer.from(key, 'base64')),
    // It goes into the token as `skn`: a policy name, never anything longer or stranger.
    keyName: typeof keyName === 'string' && KEY_NAME.test(keyName) ? keyName : 'registration',
  };
}

/**
 * Imports the identity key into the TPM and returns the registration token it signs:
 * `sr` = URL-encoded `{idScope}/registrations/{registrationId}`, as the Node TPM client sends it.
 * A TPM that cannot open the key (a copied EK, another SRK than the one sent, a TPM fault) is
 * DPS_REGISTRATION_FAILED, as is any other TPM failure.
 */
export async function tpmRegistrationSasToken(
  tpm: DeviceTpm,
  challenge: TpmChallenge,
  target: { idScope: string; registrationId: string; expiresAt: number },
  signal?: AbortSignal,
): Promise<string> {
  await askTpm(
    'import the identity key DPS sent',
    () => tpm.activateIdentityKey(challenge.authenticationKey),
    signal,
  );
  const resource = encodeURIComponent(`${target.idScope}/registrations/${target.registrationId}`);
  const signature = await askTpm(
    'sign the registration token',
    () =>
      tpm.signWithIdentity(new Uint8Array(Buffer.from(`${resource}\n${target.expiresAt}`, 'utf8'))),
    signal,
  );
  return sasTokenText(
    resource,
    Buffer.from(signature).toString('base64'),
    target.expiresAt,
    challenge.keyName,
  );
}

/**
 * One TPM operation; whatever it throws becomes DPS_REGISTRATION_FAILED naming the step. An
 * aborted `signal` ends the wait at once with its reason (the TPM may still finish its command).
 */
export async function askTpm<T>(
  what: string,
  operation: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  signal?.throwIfAborted();
  try {
    return await (signal === undefined ? operation() : untilAborted(operation(), signal));
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    const reason = err instanceof Error ? err.message : String(err);
    throw new DpsError('DPS_REGISTRATION_FAILED', {
      detail: `the TPM could not ${what}: ${reason.slice(0, 200)}`,
      cause: err,
    });
  }
}

/** `work`, or the signal's reason as soon as it aborts; the listener goes with the race. */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}
