/**
 * Helpers shared by the simulator's own tests (not used at run time): a throw-away device in a
 * temp dir, a CA that certifies CSRs, and host-side frame helpers built on the real codec.
 */
import { verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Crypto } from '@peculiar/webcrypto';
// @peculiar/x509 loads tsyringe, which needs the Reflect metadata API first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  decodeErrorBody,
  decodeResponse,
  encodeErrorBody,
  encodeRequest,
  MessageType,
  type MessageName,
  type Request,
  type Response,
} from '../codec/messages.js';
import { encodeFrame, type Frame } from '../codec/frame.js';
import { FrameDecoder } from '../codec/frameDecoder.js';
import { DeviceErrorCode, type DeviceErrorName } from '../codec/wireErrors.js';
import { afterEach } from 'vitest';
import { TypedEvent } from '../typedEvent.js';
import {
  DEFAULT_FEATURES,
  DeviceFirmware,
  type FirmwareConfig,
  type FirmwareFaults,
  type TpmContents,
} from './deviceFirmware.js';
import type { FirmwareOutcome } from './deviceOutcome.js';
import { DeviceState } from './deviceState.js';

export const testCrypto = new Crypto();

export interface TestDevice {
  dir: string;
  state: DeviceState;
  firmware: DeviceFirmware;
  /** Sends one request; resolves with the decoded response or the device error's name. */
  call<N extends MessageName>(name: N, req: Request<N>): Promise<Response<N> | Refused>;
  cleanup(): Promise<void>;
}

export interface Refused {
  refused: DeviceErrorName;
  detail?: string;
}

export const IDENTITY = {
  serialNumber: 'TEST000001',
  model: 'LS-TEST-1',
  hardwareRevision: 'B',
  firmwareVersion: '9.9.9',
};

export async function makeTestDevice(
  config: Partial<FirmwareConfig> = {},
  dir?: string,
  faults?: FirmwareFaults,
): Promise<TestDevice> {
  const stateDir = dir ?? (await mkdtemp(join(tmpdir(), 'sim-fw-test-')));
  const state = await DeviceState.open(stateDir, IDENTITY);
  const firmware = new DeviceFirmware(state, config, faults);
  return {
    dir: stateDir,
    state,
    firmware,
    call: async (name, req) =>
      outcomeToResult(name, await firmware.execute(MessageType[name], encodeRequest(name, req))),
    cleanup: () => rm(stateDir, { recursive: true, force: true }),
  };
}

/**
 * A `makeTestDevice` for one test file that cleans up every device it made after each test.
 * Call it at the top level of the file (it registers an afterEach hook).
 */
export function trackedTestDevices(): (
  ...args: Parameters<typeof makeTestDevice>
) => Promise<TestDevice> {
  const made: TestDevice[] = [];
  afterEach(async () => {
    for (const d of made.splice(0)) await d.cleanup();
  });
  return async (...args) => {
    const d = await makeTestDevice(...args);
    made.push(d);
    return d;
  };
}

export function outcomeToResult<N extends MessageName>(
  name: N,
  outcome: FirmwareOutcome,
): Response<N> | Refused {
  if (outcome.status === 'aborted') throw new Error(`${name} aborted`);
  if (outcome.status === 'ok') return decodeResponse(name, outcome.data);
  const { refused, detail } = outcome.refusal;
  // Round-trip through the wire schema, so a detail over 64 bytes fails the test here.
  const body = decodeErrorBody(
    encodeErrorBody(
      detail === undefined
        ? { code: DeviceErrorCode[refused] }
        : { code: DeviceErrorCode[refused], detail },
    ),
  );
  return body.detail === undefined ? { refused } : { refused, detail: body.detail };
}

/**
 * Arbitrary bytes standing in for TPM data: the simulator must hand them out without looking
 * inside. Zeros included, so COBS has work to do; `seed` tells one array from another.
 */
export function arbitraryBytes(length: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 7) & 0xff);
}

/** TPM contents of arbitrary bytes: a 314-byte EK public and, unless null, a certificate. */
export function testTpm(certificateLength: number | null = 1400, seed = 1): TpmContents {
  const ekPublic = arbitraryBytes(314, seed);
  if (certificateLength === null) return { ekPublic };
  return { ekPublic, ekCertificate: arbitraryBytes(certificateLength, seed + 1) };
}

/** A firmware config for a device with `tpm` soldered on, announced in INFO. */
export function withTpm(tpm: TpmContents): Partial<FirmwareConfig> {
  return { features: { ...DEFAULT_FEATURES, tpm: true }, tpm };
}

/** A small CA that certifies a CSR's key, as the station's issuer would. */
export async function makeTestCa(): Promise<{
  /** The CA's own self-signed certificate (DER), to append to a chain. */
  certificate: Uint8Array;
  issue(publicKey: x509.PublicKey, cn: string): Promise<Uint8Array>;
}> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await testCrypto.subtle.generateKey(alg, false, ['sign', 'verify']);
  const validity = {
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
    signingAlgorithm: alg,
  };
  const caName = [{ CN: ['Simulator Test CA'] }];
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    { name: caName, keys, serialNumber: '01', ...validity },
    testCrypto,
  );
  return {
    certificate: new Uint8Array(ca.rawData),
    async issue(publicKey, cn) {
      const cert = await x509.X509CertificateGenerator.create(
        {
          publicKey,
          signingKey: keys.privateKey,
          subject: [{ CN: [cn] }],
          issuer: caName,
          serialNumber: '02',
          ...validity,
        },
        testCrypto,
      );
      return new Uint8Array(cert.rawData);
    },
  };
}

/**
 * Verifies a kind-1 challenge signature over `message` against a SubjectPublicKeyInfo, as the
 * host does. The caller builds the message itself, so the test does not trust the simulator's
 * own idea of what is signed.
 */
export function verifyEcdsa(
  spki: ArrayBuffer,
  message: Uint8Array,
  signature: Uint8Array,
  hash: string,
): boolean {
  return verify(
    hash,
    message,
    { key: Buffer.from(spki), format: 'der', type: 'spki', dsaEncoding: 'der' },
    signature,
  );
}

export function isRefused(value: unknown): value is Refused {
  return typeof value === 'object' && value !== null && 'refused' in value;
}

/**
 * The host end of an in-process wire: decodes what the device transmits and hands frames out
 * in order, waiting for the next one when none is queued (an event, never a sleep).
 */
export class HostWire {
  readonly frames: Frame[] = [];
  readonly raw: Uint8Array[] = [];
  private readonly decoder = new FrameDecoder(65_535);
  private readonly arrived = new TypedEvent<void>();
  private read = 0;

  /** Pass as the endpoint's `transmit`. */
  readonly transmit = (bytes: Uint8Array): void => {
    this.raw.push(bytes);
    this.frames.push(...this.decoder.push(bytes));
    this.arrived.emit();
  };

  /** Resolves with the next frame the device sent. */
  next(): Promise<Frame> {
    const frame = this.frames[this.read];
    if (frame !== undefined) {
      this.read++;
      return Promise.resolve(frame);
    }
    return new Promise((resolve) => {
      const dispose = this.arrived.on(() => {
        const f = this.frames[this.read];
        if (f === undefined) return;
        dispose();
        this.read++;
        resolve(f);
      });
    });
  }

  /** Frames sent but not yet taken with next(). */
  get unread(): number {
    return this.frames.length - this.read;
  }
}

/** A host frame as the session would send it. */
export function hostFrame(
  name: MessageName,
  requestId: number,
  data: Uint8Array,
  extra: Partial<Frame> = {},
): Uint8Array {
  return encodeFrame({
    type: MessageType[name],
    requestId,
    fromDevice: false,
    error: false,
    data,
    ...extra,
  });
}
