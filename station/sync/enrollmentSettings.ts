import type { IndividualEnrollment } from '../../dps/service/serviceTypes.js';
import { canonicalJson } from '../line/profileFingerprint.js';

/**
 * The settings of an individual enrollment that the station writes (enrollmentBody.ts) and that
 * decide where and how the device lands: edge capability, allocation policy, target hubs and the
 * initial twin. A device that keeps its credential across runs (a TPM's endorsement key, a key
 * derived from its registration ID) comes back with the same credential under a profile a
 * supervisor may have changed meanwhile; DPS then holds our credential with the old settings,
 * and finding the credential alone would leave the device going to the old hub with the old twin.
 *
 * Fields the station never sends (reprovision policy, a device ID) are not compared: they belong
 * to whoever set them in DPS, and a rewrite keeps them (keepingTheirFields).
 * Returns the names of the settings that differ, empty when DPS holds what ours asks for.
 */
export function settingsDiffering(
  ours: IndividualEnrollment,
  theirs: IndividualEnrollment,
): string[] {
  const differing: string[] = [];
  if ((ours.capabilities?.iotEdge ?? false) !== (theirs.capabilities?.iotEdge ?? false)) {
    differing.push('capabilities');
  }
  // DPS fills an absent allocation policy with its default, evenly weighted ("hashed").
  if ((ours.allocationPolicy ?? 'hashed') !== (theirs.allocationPolicy ?? 'hashed')) {
    differing.push('allocationPolicy');
  }
  if (!sameJson(hubsOf(ours), hubsOf(theirs))) differing.push('iotHubs');
  const twin = (record: Partial<IndividualEnrollment>) => ({
    tags: record.initialTwin?.tags ?? {},
    desired: withoutMetadata(record.initialTwin?.properties?.desired ?? {}),
  });
  if (!sameJson(twin(ours), twin(theirs))) differing.push('initialTwin');
  return differing;
}

/**
 * The hubs an enrollment may land on, as DPS reads them: its `iotHubs`, else the older single
 * `iotHubHostName`, else none named (every linked hub). Host names compare case-insensitively.
 */
function hubsOf(record: Partial<IndividualEnrollment>): string[] {
  const named =
    Array.isArray(record.iotHubs) && record.iotHubs.length > 0
      ? record.iotHubs
      : typeof record.iotHubHostName === 'string'
        ? [record.iotHubHostName]
        : [];
  return [...new Set(named.map((hub) => String(hub).toLowerCase()))].sort();
}

/** A twin collection without the `$metadata` and `$version` a service may add to what it echoes. */
function withoutMetadata(collection: unknown): unknown {
  if (typeof collection !== 'object' || collection === null) return collection;
  return Object.fromEntries(Object.entries(collection).filter(([key]) => !key.startsWith('$')));
}

/** Deep equality of JSON values, whatever the order of object keys. */
function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * Our enrollment as the PUT that rewrites DPS's record of it sends it: with the fields the
 * station never writes taken from that record (a device ID, a reprovision policy, optional
 * device information someone set in DPS), since a PUT replaces the whole record. Profiles never
 * ask for custom allocation (productProfile.ts refuses it), so no webhook is carried over.
 */
export function keepingTheirFields(
  ours: IndividualEnrollment,
  theirs: IndividualEnrollment,
): IndividualEnrollment {
  const kept: Partial<IndividualEnrollment> = {};
  for (const field of ['deviceId', 'reprovisionPolicy', 'optionalDeviceInformation'] as const) {
    if (theirs[field] !== undefined && ours[field] === undefined) {
      Object.assign(kept, { [field]: theirs[field] });
    }
  }
  return { ...kept, ...ours };
}
