import { randomBytes, verify, X509Certificate } from 'node:crypto';
import {
  BANK_STAGED,
  CHALLENGE_KIND_X509,
  CHALLENGE_PREFIX,
  type Curve,
  type DeviceConfig,
  type DeviceInfo,
} from '../../firmware-bridge/codec/messages.js';
import { WireError } from '../../firmware-bridge/codec/wireErrors.js';
import type { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';

/** Steps of an X.509 device-key run, in order; progress events name them. */
export const X509_DEVICE_KEY_STEPS = [
  'identify',
  'configure',
  'keygen',
  'issue',
  'install',
  'verify',
  'commit',
] as const;
export type X509DeviceKeyStep = (typeof X509_DEVICE_KEY_STEPS)[number];

export interface X509DeviceKeyPlan {
  globalEndpoint: string;
  idScope: string;
  /** Derives the registration ID from what the device reported. */
  registrationIdFor: (info: DeviceInfo) => string;
  /**
   * Issues the leaf for a device CSR: StationCa.issueFromCsr in the station. Returns the leaf and
   * the CA chain above it (issuing CA first, root last).
   */
  issueCertificate: (
    csr: Uint8Array,
    registrationId: string,
  ) => Promise<{ certificateDer: Uint8Array; chainDer: readonly Uint8Array[] }>;
  curve?: Curve;
  /** Read the staged configuration back before COMMIT (on by default). */
  readBack?: boolean;
}

export interface X509DeviceKeyResult {
  info: DeviceInfo;
  registrationId: string;
  /** The leaf as written to the device (DER). */
  certificateDer: Uint8Array;
  commitId: Uint8Array;
}

/** A verification the station makes itself failed: the device is not what it claims to hold. */
export class VerificationError extends Error {
  constructor(
    readonly code: 'VERIFY_CONFIG_MISMATCH' | 'VERIFY_CHALLENGE_FAILED' | 'DEVICE_NO_KEYGEN',
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'VerificationError';
  }
}

/**
 * One device through the X.509 device-key flow: identify, configure DPS, key generation on the
 * device, leaf issuance from its CSR, chain written back, read-back and challenge verification,
 * then COMMIT. Nothing is committed on the device unless every check passed.
 */
export async function provisionX509DeviceKey(
  session: DeviceSession,
  plan: X509DeviceKeyPlan,
  options: { signal?: AbortSignal; onStep?: (step: X509DeviceKeyStep) => void } = {},
): Promise<X509DeviceKeyResult> {
  const { signal, onStep } = options;
  const req = signal ? { signal } : {};
  const curve = plan.curve ?? 'P-256';

  onStep?.('identify');
  const info = await session.identify(req);
  if (!info.features.keygenCurves.includes(curve)) {
    throw new VerificationError(
      'DEVICE_NO_KEYGEN',
      'This device cannot generate the key this product needs. Check the model and profile.',
      `needs ${curve}, device offers [${info.features.keygenCurves.join(', ')}]`,
    );
  }
  const registrationId = plan.registrationIdFor(info);

  onStep?.('configure');
  const config: DeviceConfig = {
    globalEndpoint: plan.globalEndpoint,
    idScope: plan.idScope,
    registrationId,
  };
  await session.request('SET_CONFIG', config, req);

  onStep?.('keygen');
  const { csr } = await session.request('GEN_KEY_CSR', { curve, commonName: registrationId }, req);

  onStep?.('issue');
  const issued = await plan.issueCertificate(csr, registrationId);

  onStep?.('install');
  // The device presents leaf and intermediates; the root is what DPS already trusts.
  const chain = [issued.certificateDer, ...issued.chainDer.slice(0, -1)];
  await session.request('PUT_CERT_CHAIN', { chain }, req);

  onStep?.('verify');
  if (plan.readBack !== false) {
    const staged = await session.request('GET_CONFIG', { bank: BANK_STAGED }, req);
    for (const key of ['globalEndpoint', 'idScope', 'registrationId'] as const) {
      if (staged[key] !== config[key]) {
        throw new VerificationError(
          'VERIFY_CONFIG_MISMATCH',
          'The device did not keep the DPS settings written to it. Retry; if it repeats, set it aside.',
          `${key}: wrote ${config[key]}, read ${staged[key] ?? '(unset)'}`,
        );
      }
    }
  }
  const nonce = randomBytes(32);
  const { signature } = await session.request(
    'SIGN_CHALLENGE',
    { nonce, bank: BANK_STAGED, kind: CHALLENGE_KIND_X509 },
    req,
  );
  const publicKey = new X509Certificate(issued.certificateDer).publicKey;
  const message = Buffer.concat([CHALLENGE_PREFIX, nonce]);
  const hash = curve === 'P-384' ? 'sha384' : 'sha256';
  if (!verify(hash, message, { key: publicKey, dsaEncoding: 'der' }, signature)) {
    throw new VerificationError(
      'VERIFY_CHALLENGE_FAILED',
      'The device could not prove it holds the key of its new certificate. Set it aside.',
    );
  }

  onStep?.('commit');
  const commitId = new Uint8Array(randomBytes(16));
  const committed = await session.request('COMMIT', { commitId }, req);
  if (!Buffer.from(committed.commitId).equals(Buffer.from(commitId))) {
    throw new WireError('WIRE_BAD_RESPONSE', 'COMMIT answered with another commit id');
  }
  return { info, registrationId, certificateDer: issued.certificateDer, commitId };
}
