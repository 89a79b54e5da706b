import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { createSasToken, deviceRegistrationSasToken, serviceSasToken } from '../auth/sas.js';
import { parseConnectionString } from '../auth/connectionString.js';
import type { DpsEmulator } from './dpsEmulator.js';

/**
 * Plain HTTPS requests against an emulator, for its tests and for anyone checking it by hand:
 * no DPS client code in between, so the tests see exactly what goes over the wire.
 */
export interface EmulatorReply {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when the body is not JSON ('' when empty). */
  body: unknown;
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** `service` (default for service paths): a valid token; a string: that header; false: none. */
  auth?: 'service' | string | false;
  /** TLS client certificate (PEM chain, leaf first) and key. */
  clientCert?: { certPem: string; keyPem: string };
  /** Default '2021-10-01'; false leaves the parameter out. */
  apiVersion?: string | false;
}

/** One request on a fresh connection (no keep-alive, so each call is its own TLS handshake). */
export function call(
  emulator: DpsEmulator,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<EmulatorReply> {
  const apiVersion = options.apiVersion ?? '2021-10-01';
  const fullPath =
    apiVersion === false
      ? path
      : `${path}${path.includes('?') ? '&' : '?'}api-version=${encodeURIComponent(apiVersion)}`;
  const headers: Record<string, string> = { ...options.headers };
  const auth = options.auth ?? 'service';
  if (auth === 'service') headers.authorization = validServiceToken(emulator);
  else if (auth !== false) headers.authorization = auth;
  let payload: Buffer | undefined;
  if (options.body !== undefined) {
    payload = Buffer.from(
      typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    );
    headers['content-type'] ??= 'application/json; charset=utf-8';
    headers['content-length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: emulator.host,
        port: emulator.port,
        method,
        path: fullPath,
        headers,
        ca: emulator.caCertificatePem,
        agent: false,
        ...(options.clientCert
          ? { cert: options.clientCert.certPem, key: options.clientCert.keyPem }
          : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          if (/json/.test(res.headers['content-type'] ?? '')) body = JSON.parse(text) as unknown;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A service token from the emulator's own connection string, valid for an hour. */
export function validServiceToken(emulator: DpsEmulator): string {
  const cs = parseConnectionString(emulator.serviceConnectionString);
  return serviceSasToken(cs.hostName, cs.sharedAccessKeyName, cs.sharedAccessKey, inAnHour());
}

/** A service token built from parts, for the refusal tests. */
export function serviceToken(parts: {
  resource: string;
  key: string;
  policy: string;
  expiresAt?: number;
}): string {
  return createSasToken({
    resource: parts.resource,
    keyBase64: parts.key,
    policyName: parts.policy,
    expiresAt: parts.expiresAt ?? inAnHour(),
  });
}

/** A device's symmetric-key token for this emulator's ID scope. */
export function deviceToken(emulator: DpsEmulator, registrationId: string, key: string): string {
  return deviceRegistrationSasToken(emulator.idScope, registrationId, key, inAnHour());
}

export interface RegistrationResult {
  register: EmulatorReply;
  /** The final poll (200), or undefined when the register call itself failed. */
  final?: EmulatorReply;
  polls: number;
}

/**
 * Registers a device and polls its operation until DPS answers something other than 202. Polls
 * go out back to back (the emulator's allocation finishes within the register call's tick, or
 * when a test's webhook answers), bounded by `maxPolls`.
 */
export async function registerDevice(
  emulator: DpsEmulator,
  registrationId: string,
  credentials: { key?: string; clientCert?: { certPem: string; keyPem: string } },
  options: { payload?: unknown; maxPolls?: number; beforePoll?: () => Promise<void> } = {},
): Promise<RegistrationResult> {
  const auth = credentials.key ? deviceToken(emulator, registrationId, credentials.key) : false;
  const device = {
    auth,
    ...(credentials.clientCert ? { clientCert: credentials.clientCert } : {}),
  } as const;
  const base = `/${emulator.idScope}/registrations/${registrationId}`;
  const register = await call(emulator, 'PUT', `${base}/register`, {
    ...device,
    body: {
      registrationId,
      ...(options.payload !== undefined ? { payload: options.payload } : {}),
    },
  });
  if (register.status !== 202) return { register, polls: 0 };
  const { operationId } = register.body as { operationId: string };
  for (let polls = 1; polls <= (options.maxPolls ?? 10); polls += 1) {
    await options.beforePoll?.();
    const reply = await call(emulator, 'GET', `${base}/operations/${operationId}`, {
      ...device,
      body: {},
    });
    if (reply.status !== 202) return { register, final: reply, polls };
  }
  throw new Error(`registration of ${registrationId} still assigning after the last poll`);
}

function inAnHour(): number {
  return Math.floor(Date.now() / 1000) + 3600;
}
