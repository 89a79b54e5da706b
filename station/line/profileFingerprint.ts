import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { productProfileSchema, type ProductProfile } from '../profiles/productProfile.js';
import { withoutDefaults } from '../profiles/withoutDefaults.js';
import type { RunDpsRecord } from './runRecorder.js';

/** Hex digits of the SHA-256 kept: enough to tell two versions of one profile apart at a glance. */
const FINGERPRINT_HEX_DIGITS = 16;

/**
 * JSON with every object's keys in code-point order, so that the same profile gives the same
 * text however the file ordered its fields. Arrays keep their order: it is part of the meaning
 * (the models listed, the hubs an enrollment names). Also how the sync compares DPS's record with
 * ours (enrollmentSettings.ts).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`);
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The first 16 hex digits of the SHA-256 of the profile's canonical JSON, every field that holds
 * its schema's default left out (withoutDefaults.ts): a profile edited in its file (another ID
 * scope, a field added with a value of its own, models reordered) gets another fingerprint; one
 * only reformatted or reordered keeps it, and so does one that spells out a default or omits it.
 * So does every profile when a station release adds a field with a default to the schema, which
 * would otherwise be taken at the next start for a change the supervisor made.
 *
 * `schema` is the one `profile` was parsed with; tests pass a later release's schema.
 */
export function profileFingerprint(
  profile: ProductProfile,
  schema: z.core.$ZodType = productProfileSchema,
): string {
  return createHash('sha256')
    .update(canonicalJson(withoutDefaults(schema, profile)))
    .digest('hex')
    .slice(0, FINGERPRINT_HEX_DIGITS);
}

/** The DPS settings a run of `profile` writes into its device, as the run records them. */
export function runDpsRecord(profile: ProductProfile): RunDpsRecord {
  return {
    idScope: profile.dps.idScope,
    globalEndpoint: profile.dps.globalEndpoint,
    profileFingerprint: profileFingerprint(profile),
  };
}
