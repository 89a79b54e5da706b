import type { Curve } from '../../../firmware-bridge/codec/messages.js';
import type {
  DeviceSession,
  RequestOptions,
} from '../../../firmware-bridge/session/deviceSession.js';
import { profileCurve } from '../../profiles/productProfile.js';
import type { Attestor } from './attestor.js';
import { deviceChain, x509Identity, type LeafWithChain } from './x509Identity.js';

/**
 * The device makes its key and a CSR (GEN_KEY_CSR), the CA checks the CSR and issues the leaf,
 * and leaf plus intermediates go back (PUT_CERT_CHAIN). The private key never leaves the device.
 */
export async function installDeviceKeyCertificate<T extends LeafWithChain>(
  session: DeviceSession,
  plan: {
    curve: Curve;
    registrationId: string;
    issue: (csr: Uint8Array, registrationId: string) => Promise<T>;
    /** Called between issuance and PUT_CERT_CHAIN, so a failure there still knows the leaf. */
    onIssued?: (issued: T) => void;
  },
  request: RequestOptions = {},
): Promise<T> {
  const { csr } = await session.request(
    'GEN_KEY_CSR',
    { curve: plan.curve, commonName: plan.registrationId },
    request,
  );
  const issued = await plan.issue(csr, plan.registrationId);
  plan.onIssued?.(issued);
  await session.request('PUT_CERT_CHAIN', { chain: deviceChain(issued) }, request);
  return issued;
}

export const x509DeviceKeyAttestor: Attestor = {
  mode: 'x509-device-key',
  x509: true,
  missingCapability(info, profile) {
    const curve = profileCurve(profile);
    if (info.features.keygenCurves.includes(curve)) return undefined;
    return `on-device ${curve} key generation (device offers [${info.features.keygenCurves.join(', ')}])`;
  },
  async attest(input) {
    const { session, profile, registrationId, request, services, issuedFor } = input;
    const curve = profileCurve(profile);
    const issued = await installDeviceKeyCertificate(
      session,
      {
        curve,
        registrationId,
        issue: (csr, id) =>
          services.ca.issueFromCsr(csr, {
            registrationId: id,
            profile: services.leafProfile,
            issuedFor,
            // A cancel or a stop ends the ledger's wait for a lock: nothing was written yet.
            signal: request.signal,
          }),
        onIssued: (leaf) => input.onCertificateIssued(leaf.serialNumber),
      },
      request,
    );
    return x509Identity(issued, curve);
  },
};
