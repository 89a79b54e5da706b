import type { Curve, DeviceInfo } from '../../firmware-bridge/codec/messages.js';
import type { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import { installDeviceKeyCertificate } from './attestation/x509DeviceKey.js';
import { x509Challenge, type LeafWithChain } from './attestation/x509Identity.js';
import { RunError } from './runErrors.js';
import { commitDevice } from './steps/commitDevice.js';
import { configureDevice, type DpsSettings } from './steps/configureDevice.js';
import { verifyChallenge, verifyStagedConfig } from './steps/verifyDevice.js';

/**
 * The X.509 device-key exchange of one device on an open session, without a product profile,
 * a store or a line: the wire-level building block the e2e wire tests and the wire benchmark
 * drive. The line engine (provisioningRun.ts) runs the same steps with validation, duplicate
 * policy and the store around them.
 */

/** Steps of an X.509 device-key exchange, in order; progress events name them. */
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
  issueCertificate: (csr: Uint8Array, registrationId: string) => Promise<LeafWithChain>;
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

/**
 * One device through the X.509 device-key exchange: identify, configure DPS, key generation on
 * the device, leaf issuance from its CSR, chain written back, read-back and challenge
 * verification, then COMMIT. Nothing is committed on the device unless every check passed.
 * Throws WireError, CertError or RunError (RUN_CAPABILITY_MISSING, RUN_VERIFY_*).
 */
export async function provisionX509DeviceKey(
  session: DeviceSession,
  plan: X509DeviceKeyPlan,
  options: { signal?: AbortSignal; onStep?: (step: X509DeviceKeyStep) => void } = {},
): Promise<X509DeviceKeyResult> {
  const { signal, onStep } = options;
  const request = signal ? { signal } : {};
  const curve = plan.curve ?? 'P-256';

  onStep?.('identify');
  const info = await session.identify(request);
  if (!info.features.keygenCurves.includes(curve)) {
    throw new RunError(
      'RUN_CAPABILITY_MISSING',
      `needs ${curve} key generation, device offers [${info.features.keygenCurves.join(', ')}]`,
    );
  }
  const registrationId = plan.registrationIdFor(info);

  onStep?.('configure');
  const settings: DpsSettings = {
    globalEndpoint: plan.globalEndpoint,
    idScope: plan.idScope,
    registrationId,
  };
  await configureDevice(session, settings, request);

  onStep?.('keygen');
  const issued = await installDeviceKeyCertificate(
    session,
    {
      curve,
      registrationId,
      issue: (csr, id) => {
        onStep?.('issue');
        return plan.issueCertificate(csr, id);
      },
      onIssued: () => onStep?.('install'),
    },
    request,
  );

  onStep?.('verify');
  if (plan.readBack !== false) await verifyStagedConfig(session, settings, request);
  await verifyChallenge(session, x509Challenge(issued.certificateDer, curve), request);

  onStep?.('commit');
  const commitId = await commitDevice(session);
  return { info, registrationId, certificateDer: issued.certificateDer, commitId };
}
