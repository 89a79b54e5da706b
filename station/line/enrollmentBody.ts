import type { ProductProfile } from '../profiles/productProfile.js';

/**
 * The DPS individual enrollment of one device (service API IndividualEnrollment, dps-protocol.md
 * §1.7), as the outbox keeps it until the sync worker sends it. It never holds a secret: a
 * symmetric key travels sealed beside it (PassedRunRecord.sealedSecret).
 */
export function individualEnrollment(
  profile: ProductProfile,
  registrationId: string,
  attestation: Record<string, unknown>,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    registrationId,
    attestation,
    capabilities: { iotEdge: profile.iotEdge },
  };
  const twin = profile.initialTwin;
  if (twin && (twin.tags !== undefined || twin.desiredProperties !== undefined)) {
    const initialTwin: Record<string, unknown> = {};
    if (twin.tags !== undefined) initialTwin.tags = twin.tags;
    if (twin.desiredProperties !== undefined) {
      initialTwin.properties = { desired: twin.desiredProperties };
    }
    body.initialTwin = initialTwin;
  }
  if (profile.iotHubs !== undefined) body.iotHubs = [...profile.iotHubs];
  if (profile.allocationPolicy !== undefined) body.allocationPolicy = profile.allocationPolicy;
  body.provisioningStatus = 'enabled';
  return body;
}
