import { profileCurve } from '../../profiles/productProfile.js';
import type { Attestor } from './attestor.js';
import { deviceChain, x509Identity } from './x509Identity.js';

/**
 * For devices that cannot make keys: the station makes the key, the CA issues its leaf, and the
 * key is written once (PUT_PRIVATE_KEY) and then erased from station memory. It is never stored.
 */
export const x509StationKeyAttestor: Attestor = {
  mode: 'x509-station-key',
  x509: true,
  missingCapability(info) {
    return info.features.keyInjection ? undefined : 'private key injection';
  },
  async attest(input) {
    const { session, profile, registrationId, request, services } = input;
    const curve = profileCurve(profile);
    const issued = await services.ca.issueWithStationKey({
      registrationId,
      curve,
      profile: services.leafProfile,
      issuedFor: input.issuedFor,
      // A cancel or a stop ends the ledger's wait for a lock: nothing was written yet.
      signal: request.signal,
    });
    try {
      // Inside the try: whatever fails from here on, the key is zeroed.
      input.onCertificateIssued(issued.serialNumber);
      await session.request('PUT_PRIVATE_KEY', { curve, pkcs8: issued.privateKeyPkcs8 }, request);
    } finally {
      // Whatever happened on the wire, the station's copy of the key is gone now. The session
      // zeroed its encoded copies (CBOR, frames, re-sends) as the request settled.
      issued.privateKeyPkcs8.fill(0);
    }
    await session.request('PUT_CERT_CHAIN', { chain: deviceChain(issued) }, request);
    return x509Identity(issued, curve);
  },
};
