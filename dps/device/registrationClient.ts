import { Agent, type AgentOptions } from 'node:https';
import { setTimeout as delay } from 'node:timers/promises';
import { deviceRegistrationSasToken, parseSasToken } from '../auth/sas.js';
import { DpsError } from '../dpsErrors.js';
import { parseDpsEndpoint, trustAnchors } from '../http/dpsEndpoint.js';
import { dpsErrorFromResponse, invalidResponse, isRecord, isSuccess } from '../http/dpsResponse.js';
import { httpsExchange, type HttpsExchangeResponse } from '../http/httpsExchange.js';
import { parseRetryAfterMs } from '../http/retryAfter.js';
import { readRegistrationStep } from './registrationOperation.js';
import { askTpm, readTpmChallenge, tpmRegistrationSasToken } from './tpmChallenge.js';
import type { DeviceRegistrationResult, RegisterDeviceOptions } from './registrationTypes.js';

export type {
  DeviceAuth,
  DeviceTpm,
  DeviceRegistrationResult,
  RegisterDeviceOptions,
} from './registrationTypes.js';

const USER_AGENT = 'line-station-dps-device/1';
/** The Node SDK's poll delay when DPS sends no Retry-After. */
const DEFAULT_POLL_DELAY_MS = 2000;
/**
 * The shortest wait between polls whatever Retry-After says. A DPS answering `assigning` with
 * Retry-After: 0 asks for no wait of its own, not for polls at once (retryAfter.ts): taken at
 * its word, the client would poll once per round trip against a service that throttles per
 * scope, and spend its maxPolls in a moment, failing with DPS_TIMEOUT an assignment that needed
 * a few seconds. One second: the shortest wait a Retry-After in whole seconds can ask for, and
 * what our emulator sends while assigning. `maxPollDelayMs` still caps it, so a caller that
 * asked for shorter waits (tests, the demo) keeps them.
 */
const MIN_POLL_DELAY_MS = 1000;
/** A token only needs to outlive one registration (at most maxPolls × maxPollDelayMs). */
const DEVICE_SAS_LIFETIME_S = 60 * 60;

/**
 * Registers one device with DPS over HTTPS, as the device itself would (dps-protocol.md §2):
 * PUT …/register, then poll …/operations/{id} while DPS answers `assigning`. A TPM device first
 * takes DPS's challenge (§2.5, tpmChallenge.ts). Used by tests and the demo to prove that an
 * enrollment really provisions.
 *
 * Rejects with DpsError: DPS_REGISTRATION_FAILED for `failed`/`disabled` and for any HTTP error
 * (with status, DPS errorCode, Retry-After), the HTTPS client's transport codes
 * (DPS_UNREACHABLE, DPS_CONNECTION_REFUSED, DPS_HOST_NOT_FOUND, DPS_TLS_UNTRUSTED, DPS_TIMEOUT;
 * httpsExchange.ts), DPS_TIMEOUT when still `assigning` after `maxPolls` polls,
 * DPS_RESPONSE_INVALID for an unreadable answer. An aborted `signal` rejects with its reason.
 */
export async function registerDevice(
  options: RegisterDeviceOptions,
): Promise<DeviceRegistrationResult> {
  const maxPolls = options.maxPolls ?? 20;
  if (!Number.isSafeInteger(maxPolls) || maxPolls < 0) {
    throw new RangeError(`maxPolls must be a non-negative integer, got ${maxPolls}`);
  }
  const maxPollDelayMs = options.maxPollDelayMs ?? 3000;
  const endpoint = parseDpsEndpoint(options.globalEndpoint);
  const { auth, signal } = options;
  const apiVersion = `?api-version=${encodeURIComponent(options.apiVersion ?? '2021-06-01')}`;
  const base = `/${encodeURIComponent(options.idScope)}/registrations/${encodeURIComponent(options.registrationId)}`;

  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
  const secrets: string[] = [];
  if (auth.kind === 'symmetricKey') {
    const token = deviceRegistrationSasToken(
      options.idScope,
      options.registrationId,
      auth.deviceKeyBase64,
      Math.floor(Date.now() / 1000) + DEVICE_SAS_LIFETIME_S,
    );
    headers['authorization'] = token;
    secrets.push(...tokenSecrets(token), auth.deviceKeyBase64);
  }
  // One socket for the PUT and every poll; the X.509 identity travels in its TLS handshake.
  const ca = trustAnchors(options.ca);
  const agentOptions: AgentOptions = { keepAlive: true, maxSockets: 1 };
  if (ca !== undefined) agentOptions.ca = ca;
  if (auth.kind === 'x509') {
    agentOptions.cert = auth.certificateChainPem;
    agentOptions.key = auth.privateKeyPem;
  }
  const agent = new Agent(agentOptions);

  const exchange = async (
    method: 'PUT' | 'GET',
    path: string,
    body?: unknown,
  ): Promise<HttpsExchangeResponse> => {
    const requestHeaders = { ...headers };
    let payload: Buffer | undefined;
    if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body), 'utf8');
      requestHeaders['content-type'] = 'application/json; charset=utf-8';
      requestHeaders['content-length'] = String(payload.length);
    }
    const response = await httpsExchange({
      agent,
      endpoint,
      method,
      path: `${path}${apiVersion}`,
      headers: requestHeaders,
      ...(payload === undefined ? {} : { body: payload }),
      timeoutMs: options.timeoutMs ?? 30_000,
      ...(signal === undefined ? {} : { signal }),
    });
    return response;
  };
  const send = async (
    method: 'PUT' | 'GET',
    path: string,
    body?: unknown,
  ): Promise<HttpsExchangeResponse> => {
    const response = await exchange(method, path, body);
    if (isSuccess(response.status)) return response;
    throw dpsErrorFromResponse('DPS_REGISTRATION_FAILED', `${method} ${path}`, response, secrets);
  };

  try {
    const registerPath = `${base}/register`;
    const registration: Record<string, unknown> = { registrationId: options.registrationId };
    if (options.payload !== undefined) registration['payload'] = options.payload;
    if (auth.kind === 'tpm') {
      const { tpm } = auth;
      registration['tpm'] = {
        endorsementKey: base64(await askTpm('read its EK', () => tpm.endorsementKey(), signal)),
        storageRootKey: base64(await askTpm('read its SRK', () => tpm.storageRootKey(), signal)),
      };
      // The first PUT asks for DPS's challenge; the token it yields signs the PUT and every poll.
      const first = await exchange('PUT', registerPath, registration);
      const challenge = readTpmChallenge(first);
      if (challenge === undefined) {
        if (isSuccess(first.status)) {
          throw invalidResponse(`PUT ${registerPath}`, first, 'a TPM device admitted unchallenged');
        }
        throw dpsErrorFromResponse(
          'DPS_REGISTRATION_FAILED',
          `PUT ${registerPath}`,
          first,
          secrets,
        );
      }
      const token = await tpmRegistrationSasToken(
        tpm,
        challenge,
        {
          idScope: options.idScope,
          registrationId: options.registrationId,
          expiresAt: Math.floor(Date.now() / 1000) + DEVICE_SAS_LIFETIME_S,
        },
        signal,
      );
      headers['authorization'] = token;
      secrets.push(...tokenSecrets(token));
    }
    let where = `PUT ${registerPath}`;
    let response = await send('PUT', registerPath, registration);
    let step = readRegistrationStep(where, response, secrets);
    for (let polls = 0; step.kind === 'assigning'; polls += 1) {
      if (polls >= maxPolls) {
        throw new DpsError('DPS_TIMEOUT', {
          status: response.status,
          detail: `${registerPath}: still assigning after ${maxPolls} polls`,
        });
      }
      const retryAfterMs = parseRetryAfterMs(response.headers['retry-after']);
      const waitMs = Math.max(retryAfterMs ?? DEFAULT_POLL_DELAY_MS, MIN_POLL_DELAY_MS);
      await abortableDelay(Math.min(waitMs, maxPollDelayMs), signal);
      const pollPath = `${base}/operations/${encodeURIComponent(step.operationId)}`;
      where = `GET ${pollPath}`;
      response = await exchange('GET', pollPath);
      // DPS took the registration already: a throttled or failing poll (429, 408, 5xx) says
      // nothing of it, and is asked again after its Retry-After, within maxPolls.
      if (isTransientPollStatus(response.status)) continue;
      if (!isSuccess(response.status)) {
        throw dpsErrorFromResponse('DPS_REGISTRATION_FAILED', where, response, secrets);
      }
      step = readRegistrationStep(where, response, secrets);
    }
    // The C SDK fails an assignment whose state lacks the key; a device keeps it for re-activation.
    if (auth.kind === 'tpm' && !hasTpmAuthenticationKey(step.result.registrationState)) {
      throw invalidResponse(where, response, 'assigned without tpm.authenticationKey');
    }
    return step.result;
  } finally {
    agent.destroy();
  }
}

/** Statuses of a poll worth asking again: throttled, timed out, or a failure on DPS's side. */
function isTransientPollStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** A token and its signature alone, in both spellings: a server may echo any of them. */
function tokenSecrets(token: string): string[] {
  const sig = parseSasToken(token)?.sig;
  return sig === undefined ? [token] : [token, sig, encodeURIComponent(sig)];
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function hasTpmAuthenticationKey(state: Record<string, unknown>): boolean {
  const tpm = state['tpm'];
  return (
    isRecord(tpm) && typeof tpm['authenticationKey'] === 'string' && tpm['authenticationKey'] !== ''
  );
}

/** Waits, or rejects with the signal's own reason (not a generic AbortError) when aborted. */
async function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await delay(ms, undefined, signal === undefined ? {} : { signal });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}
