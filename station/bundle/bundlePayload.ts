import { createHash } from 'node:crypto';
import { z } from 'zod';
import { BundleError } from './bundleErrors.js';
import { BUNDLE_ID } from './bundleSeal.js';

/**
 * What a bundle and its receipt hold once opened (bundleSeal.ts seals them). Both cross an air
 * gap on removable media and come back from another machine, so both are validated here before
 * a field is used; a payload that does not fit is BUNDLE_CORRUPT, naming the field.
 */

export const BUNDLE_PAYLOAD_FORMAT = 'line-station/outbox-bundle';
export const RECEIPT_PAYLOAD_FORMAT = 'line-station/outbox-receipt';

/**
 * Enrollments one bundle carries at most; the export takes the oldest and says what is left. A
 * bundle is a day's production at most, and this many bodies (a few KB each) stay far below
 * what bundleSeal.ts will unzip.
 */
export const MAX_BUNDLE_ENROLLMENTS = 20_000;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
/** DPS holds at most 100 symmetric-key enrollment groups (dps-protocol.md §3). */
const MAX_CARRIED_GROUPS = 100;
const bundleIdSchema = z.string().regex(BUNDLE_ID);
const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date');
const attestation = z.enum([
  'x509-device-key',
  'x509-station-key',
  'symmetric-key-group',
  'symmetric-key-individual',
  'tpm',
]);

/** One outbox row as it travels: its station's id, and its key only when DPS needs it. */
export const bundleEnrollmentSchema = z.object({
  /** The row's id in the exporting station's outbox; the receipt answers by it. */
  id: z.number().int().positive(),
  registrationId: z.string().min(1).max(128),
  attestation,
  /** The DPS enrollment as stored (JSON text, no secret in it). */
  body: z
    .string()
    .min(2)
    .max(256 * 1024),
  /** SHA-256 of `body`: the receipt names it, so an answer never lands on a row that changed. */
  bodySha256: sha256Hex,
  /** symmetric-key-individual only: the device's key (base64), protected by the bundle's seal. */
  symmetricKey: z.string().min(4).max(256).optional(),
  /** DPS sends made for it before export; above 0, DPS may hold it already. */
  attempts: z.number().int().min(0),
  needsReconcile: z.boolean(),
  serialNumber: z.string().min(1).max(256),
  model: z.string().min(1).max(256),
  createdAt: isoDate,
});

/** An earlier enrollment of a carried registration ID that DPS may hold (for If-Match replace). */
export const bundleHistorySchema = bundleEnrollmentSchema.extend({
  supersededBy: z.number().int().positive(),
});

/**
 * Superseded enrollments one bundle carries at most for retirement in DPS (migration 017): each
 * costs the syncing machine two or three DPS calls, and re-provisioning under a new ID is rare.
 * More wait for the next bundle.
 */
export const MAX_BUNDLE_RETIREMENTS = 100;

/**
 * A superseded enrollment whose registration ID DPS may still hold enabled (its device was
 * provisioned again under another ID): the syncing machine disables it there if DPS holds it
 * with this credential (station/sync/supersededRetirement.ts). Its key travels as a pending
 * row's does, protected by the bundle's seal.
 */
export const bundleRetirementSchema = bundleEnrollmentSchema.extend({
  /** The registration ID that replaced it, for the audit trail, when the line knows it. */
  successorRegistrationId: z.string().min(1).max(128).optional(),
  /**
   * A group member uses its registration ID on the line now: deleted from DPS, not disabled, as
   * an individual enrollment would take precedence over the group. Absent from bundles of
   * earlier versions (a station of an earlier version disables it).
   */
  heldByGroup: z.boolean().optional(),
});

/**
 * The bundle payload's versions. 1: pending enrollments, with what else goes along. 2:
 * retirements alone, written only when nothing is pending (migration 018); a station of an
 * earlier version refuses it by its version instead of reading a bundle without enrollments.
 */
export const BUNDLE_PAYLOAD_VERSION = { enrollments: 1, retirementsOnly: 2 } as const;
const NEWEST_BUNDLE_PAYLOAD_VERSION = BUNDLE_PAYLOAD_VERSION.retirementsOnly;

export const bundlePayloadSchema = z
  .object({
    format: z.literal(BUNDLE_PAYLOAD_FORMAT),
    version: z.union([
      z.literal(BUNDLE_PAYLOAD_VERSION.enrollments),
      z.literal(BUNDLE_PAYLOAD_VERSION.retirementsOnly),
    ]),
    bundleId: bundleIdSchema,
    createdAt: isoDate,
    /** Which station wrote it, for the people carrying it (the station checks the bundle ID). */
    source: z.object({ host: z.string().max(256), dataDir: z.string().max(4096) }),
    enrollments: z.array(bundleEnrollmentSchema).max(MAX_BUNDLE_ENROLLMENTS),
    history: z.array(bundleHistorySchema).max(MAX_BUNDLE_ENROLLMENTS),
    /**
     * For the symmetric-key group members carried whose body records no `groupKeyFingerprint`
     * (provisioned by an earlier version): the fingerprint of the station's key of each of their
     * groups (groupKeyFingerprint.ts, never the key), by lower-case group ID, so the syncing
     * machine can confirm the group in DPS. Members whose body records one (the key their device
     * key was derived from) are checked by it alone. Absent in bundles of earlier versions.
     */
    groupKeys: z
      .record(z.string().min(1).max(128), sha256Hex)
      .refine((keys) => Object.keys(keys).length <= MAX_CARRIED_GROUPS, 'too many groups')
      .optional(),
    /** Superseded rows due for retirement in DPS. Absent in bundles of earlier versions. */
    retirements: z.array(bundleRetirementSchema).max(MAX_BUNDLE_RETIREMENTS).optional(),
  })
  .superRefine((bundle, ctx) => {
    const problem = (path: string, message: string): void =>
      ctx.addIssue({ code: 'custom', path: [path], message });
    if (bundle.version === BUNDLE_PAYLOAD_VERSION.enrollments) {
      if (bundle.enrollments.length === 0)
        problem('enrollments', 'no enrollment in a version-1 bundle');
      return;
    }
    if (bundle.enrollments.length > 0) problem('version', 'version 2 carries no enrollment');
    else if (bundle.history.length > 0) problem('history', 'history without enrollments');
    else if ((bundle.retirements?.length ?? 0) === 0) problem('retirements', 'nothing to carry');
  });

/**
 * BUNDLE_NEWER_VERSION for a bundle of a version above this station's, before its fields are
 * checked: a newer station's bundle is not damaged, this station is out of date.
 */
export function refuseNewerBundle(payload: unknown): void {
  const { format, version } = (payload ?? {}) as { format?: unknown; version?: unknown };
  if (
    format === BUNDLE_PAYLOAD_FORMAT &&
    typeof version === 'number' &&
    Number.isInteger(version) &&
    version > NEWEST_BUNDLE_PAYLOAD_VERSION
  ) {
    throw new BundleError(
      'BUNDLE_NEWER_VERSION',
      `bundle version ${version}; this station reads up to ${NEWEST_BUNDLE_PAYLOAD_VERSION}`,
    );
  }
}

/** JSON text one object DPS sent may take on the line (UTF-8), and how deep it may nest. */
export const MAX_DPS_JSON_BYTES = 64 * 1024;
const MAX_DPS_JSON_DEPTH = 16;

/**
 * Whether `value` nests objects or arrays more than `max` deep (`value` itself is level 1).
 * Walked without recursion, and before JSON.stringify, which would overflow the stack on a
 * hostile nesting.
 */
function nestsDeeperThan(value: unknown, max: number): boolean {
  const open: [unknown, number][] = [[value, 1]];
  for (let next = open.pop(); next !== undefined; next = open.pop()) {
    const [node, depth] = next;
    if (depth > max) return true;
    for (const child of Object.values(node as object)) {
      if (typeof child === 'object' && child !== null) open.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * An object DPS sent (its error, or the enrollment it holds), stored on the line as received:
 * bounded, so a receipt cannot park megabytes in a row.
 */
export const dpsJsonObject = z
  .record(z.string(), z.unknown())
  .refine((value) => !nestsDeeperThan(value, MAX_DPS_JSON_DEPTH), {
    message: `nests deeper than ${MAX_DPS_JSON_DEPTH} levels`,
    abort: true,
  })
  .refine(
    (value) => Buffer.byteLength(JSON.stringify(value), 'utf8') <= MAX_DPS_JSON_BYTES,
    `more than ${MAX_DPS_JSON_BYTES / 1024} KiB of JSON`,
  );

const resultBase = {
  id: z.number().int().positive(),
  registrationId: z.string().min(1).max(128),
  bodySha256: sha256Hex,
  /** DPS sends the syncing machine made for it. */
  attempts: z.number().int().min(0),
};

/** DPS's answer for one carried enrollment, or `pending` when the syncing machine got none. */
export const receiptResultSchema = z.discriminatedUnion('outcome', [
  z.object({
    ...resultBase,
    outcome: z.literal('synced'),
    // `group`: an earlier version's "covered by its group", never asked of DPS: not applied.
    how: z.enum(['created', 'found', 'replaced', 'confirmed-by-group', 'group']),
    etag: z.string().max(256).optional(),
    note: z.string().max(1024).optional(),
  }),
  z.object({
    ...resultBase,
    outcome: z.literal('failed'),
    code: z.string().regex(/^SYNC_[A-Z_]+$/),
    detail: z.string().max(4096),
    dpsError: dpsJsonObject.optional(),
  }),
  z.object({
    ...resultBase,
    outcome: z.literal('conflict'),
    detail: z.string().max(4096),
    dpsRecord: dpsJsonObject,
  }),
  z.object({
    ...resultBase,
    outcome: z.literal('pending'),
    code: z
      .string()
      .regex(/^SYNC_[A-Z_]+$/)
      .optional(),
    detail: z.string().max(4096).optional(),
  }),
]);

/** How the retirement of one carried superseded enrollment ended in DPS. */
export const receiptRetirementSchema = z.object({
  enrollmentId: z.number().int().positive(),
  registrationId: z.string().min(1).max(128),
  outcome: z.enum(['disabled', 'absent', 'not-ours']),
  /** What the syncing machine saw (how, DPS's etag or attestation kind); never a key. */
  detail: z
    .record(z.string().max(64), z.string().max(1024))
    .refine((detail) => Object.keys(detail).length <= 8, 'too many entries')
    .optional(),
});

export const receiptPayloadSchema = z.object({
  format: z.literal(RECEIPT_PAYLOAD_FORMAT),
  version: z.literal(1),
  bundleId: bundleIdSchema,
  writtenAt: isoDate,
  /** The DPS the enrollments went to (host name only). */
  dpsHost: z.string().max(256),
  /** Which machine synced it, and who ran the sync (for the line's audit trail). */
  syncedOn: z.object({ host: z.string().max(256), by: z.string().max(256) }).optional(),
  results: z.array(receiptResultSchema).max(2 * MAX_BUNDLE_ENROLLMENTS),
  /**
   * The carried retirements that settled in DPS; one left `due` (DPS out of reach, changed
   * meanwhile) is not in it. Absent in receipts of earlier versions.
   */
  retirements: z.array(receiptRetirementSchema).max(MAX_BUNDLE_RETIREMENTS).optional(),
});

export type BundleEnrollment = z.infer<typeof bundleEnrollmentSchema>;
export type BundleHistoryEntry = z.infer<typeof bundleHistorySchema>;
export type BundleRetirement = z.infer<typeof bundleRetirementSchema>;
export type ReceiptRetirement = z.infer<typeof receiptRetirementSchema>;
export type BundlePayload = z.infer<typeof bundlePayloadSchema>;
export type ReceiptResult = z.infer<typeof receiptResultSchema>;
export type ReceiptPayload = z.infer<typeof receiptPayloadSchema>;

/** Validates an opened payload; the first misfit names its field in BUNDLE_CORRUPT's detail. */
export function checkPayload<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.map(String).join('.') || '(top)';
  throw new BundleError('BUNDLE_CORRUPT', `${what}: field ${path}: ${issue?.message ?? 'invalid'}`);
}

/** SHA-256 (hex) of a stored enrollment body, as the bundle and its receipt name it. */
export function bodySha256(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

/** What a receipt says DPS answered, per outcome: the syncing machine's summary, the line's record. */
export function receiptCounts(receipt: ReceiptPayload): Record<ReceiptResult['outcome'], number> {
  const counts = { synced: 0, failed: 0, conflict: 0, pending: 0 };
  for (const result of receipt.results) counts[result.outcome]++;
  return counts;
}
