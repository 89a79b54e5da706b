import { z } from 'zod';
import {
  DEFAULT_GLOBAL_ENDPOINT,
  globalEndpointSchema,
  idScopeSchema,
  iotHubSchema,
} from './dpsSettings.js';
import { attestationModes } from './attestationModes.js';
import {
  attestationIssues,
  duplicateNameIssues,
  groupMemberIssues,
  hubIssues,
  RUN_ALWAYS,
  templateIssues,
  type CrossCheckIssue,
} from './profileCrossChecks.js';
import { twinSectionProblems, type TwinSection } from '../../dps/service/twinRules.js';

/**
 * A product profile: what the line checks on a device, which DPS settings and identity it gives
 * it, and how the enrollment looks. Supervisors write profiles as JSON; the schema is strict so
 * a misspelt field is an error with its path, not a silently ignored setting.
 */

export { DEFAULT_GLOBAL_ENDPOINT } from './dpsSettings.js';
export { TEMPLATE_SAMPLE } from './registrationIdTemplate.js';
export const DEFAULT_REGISTRATION_ID_TEMPLATE = '{model}-{serial}';
export const DEFAULT_VALIDITY_DAYS = 1095;

/** `1.4.2` exactly, or a prefix pattern `1.4.*` (the `*` only at the end, after a dot). */
const FIRMWARE_PATTERN = /^(?:[0-9A-Za-z][0-9A-Za-z.+_-]*|(?:[0-9A-Za-z][0-9A-Za-z+_-]*\.)+\*)$/;
/** The DPS allocation policies a profile may name (custom is refused: see allocationPolicy). */
const ALLOCATION_POLICIES = ['hashed', 'geoLatency', 'static'] as const;
const ALLOCATION_POLICY_LIST = 'hashed, geoLatency or static';
/** DPS group IDs follow the registration ID rules. */
const GROUP_ID = /^[a-z0-9](?:[a-z0-9._:-]{0,126}[a-z0-9])?$/;

/**
 * Tags or desired properties: a JSON object that keeps IoT Hub's twin rules (dps/service/
 * twinRules.ts). DPS writes it into the hub's twin at registration, where a broken rule would
 * fail the device's provisioning long after the enrollment was written.
 */
const twinCollection = (section: TwinSection) =>
  z
    .record(z.string(), z.unknown(), { error: 'expected a JSON object' })
    .superRefine((value, ctx) => addIssues(ctx, twinSectionProblems(section, value)));

export { attestationModes, templateOptions, type AttestationMode } from './attestationModes.js';

/** Names and models are picked and matched as typed: one of only spaces is as good as none. */
const notBlank = (text: string): boolean => text.trim() !== '';
const NOT_BLANK = 'must not be empty or only spaces';

/**
 * A model is compared with what the device reports, character for character: a space at either
 * end, a control character or a byte that was not UTF-8 (read as U+FFFD) cannot be seen in the
 * file or in the run's error text, and every device of the model would fail RUN_MODEL_NOT_ALLOWED.
 * A blank model gets the blank's message alone.
 */
const modelName = z
  .string({ error: 'expected a string' })
  .refine(notBlank, NOT_BLANK)
  .refine(
    (text) => !notBlank(text) || text.trim() === text,
    'has a space at the start or end, which no device reports: remove it',
  )
  .refine(
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    (text) => !notBlank(text) || !/[\u0000-\u001f\u007f\ufffd]/.test(text),
    'holds a control character or a byte that is not UTF-8: retype the model name',
  );

/** Adds the issues of a cross-field check (profileCrossChecks.ts) to zod's. */
function addIssues(ctx: z.RefinementCtx, issues: CrossCheckIssue[]): void {
  for (const { path, message } of issues) ctx.addIssue({ code: 'custom', path, message });
}

const attestationSchema = z
  .strictObject({
    mode: z.enum(attestationModes, {
      error: `expected one of ${attestationModes.join(', ')}`,
    }),
    curve: z.enum(['P-256', 'P-384'], { error: 'expected P-256 or P-384' }).optional(),
    enrollmentGroupId: z
      .string({ error: 'expected a string' })
      .regex(GROUP_ID, 'expected lower-case letters, digits and - . _ : (DPS group ID rules)')
      .optional(),
    /**
     * tpm: whether a TPM must hold an EK certificate chaining to a trusted vendor CA (the proof
     * that the TPM is genuine), or may come without one (some firmware TPMs ship none; the EK
     * is then enrolled unchecked, and the run's record says so).
     */
    ekCertificate: z
      .enum(['required', 'if-present'], { error: 'expected required or if-present' })
      .optional(),
  })
  .superRefine((value: unknown, ctx) => addIssues(ctx, attestationIssues(value)), RUN_ALWAYS);

export const productProfileSchema = z
  .strictObject({
    name: z
      .string({ error: 'expected a string' })
      .refine(notBlank, NOT_BLANK)
      .max(64, 'must be at most 64 characters'),
    models: z
      .array(modelName, {
        error: 'expected a list of model names',
      })
      .min(1, 'expected at least one model'),
    firmwareVersions: z
      .array(
        z
          .string({ error: 'expected a string' })
          .regex(FIRMWARE_PATTERN, 'expected an exact version or a prefix pattern such as 1.4.*'),
        { error: 'expected a list of versions' },
      )
      .min(1, 'expected at least one version (leave the field out to allow any)')
      .optional(),
    dps: z.strictObject(
      {
        globalEndpoint: globalEndpointSchema.default(DEFAULT_GLOBAL_ENDPOINT),
        idScope: idScopeSchema,
      },
      { error: 'expected an object with idScope' },
    ),
    registrationId: z
      .strictObject({
        template: z
          .string({ error: 'expected a string' })
          .min(1, `must not be empty (leave the field out for ${DEFAULT_REGISTRATION_ID_TEMPLATE})`)
          .default(DEFAULT_REGISTRATION_ID_TEMPLATE),
      })
      .default({ template: DEFAULT_REGISTRATION_ID_TEMPLATE }),
    attestation: attestationSchema,
    iotHubs: z.array(iotHubSchema).min(1).optional(),
    /**
     * No default: left out, the enrollment names no policy and DPS uses its own. DPS's fourth
     * policy, custom, needs a webhook definition in every enrollment, and the webhook URL of an
     * Azure Function carries its function key: a secret that a profile, a plain file on disk,
     * must not hold. Without it DPS refuses every enrollment at sync, after every device passed.
     */
    allocationPolicy: z
      .enum(ALLOCATION_POLICIES, {
        error: (issue) =>
          issue.input === 'custom'
            ? `custom allocation is not supported by the station (its webhook URL holds a secret key, which a profile must not): use ${ALLOCATION_POLICY_LIST}`
            : `expected ${ALLOCATION_POLICY_LIST}`,
      })
      .optional(),
    initialTwin: z
      .strictObject({
        tags: twinCollection('tags').optional(),
        desiredProperties: twinCollection('desired').optional(),
      })
      .optional(),
    iotEdge: z.boolean({ error: 'expected true or false' }).default(false),
    certificate: z
      .strictObject({
        validityDays: z
          .number({ error: 'expected a number of days' })
          .int('expected a whole number of days')
          .min(1, 'expected at least 1 day')
          .max(36_500, 'expected at most 36500 days')
          .default(DEFAULT_VALIDITY_DAYS),
      })
      .default({ validityDays: DEFAULT_VALIDITY_DAYS }),
    duplicates: z
      .enum(['refuse', 'reprovision'], { error: 'expected refuse or reprovision' })
      .default('refuse'),
  })
  .superRefine(
    (value: unknown, ctx) =>
      addIssues(ctx, [...templateIssues(value), ...hubIssues(value), ...groupMemberIssues(value)]),
    RUN_ALWAYS,
  );

/** One product profile, defaults applied. */
export type ProductProfile = z.output<typeof productProfileSchema>;
/** A profile as written in the file, before defaults. */
export type ProductProfileInput = z.input<typeof productProfileSchema>;

export const profilesFileSchema = z
  .strictObject(
    {
      profiles: z
        .array(productProfileSchema, { error: 'expected a list of profiles' })
        .min(1, 'expected at least one profile'),
    },
    { error: 'expected an object with a "profiles" list' },
  )
  .superRefine((value: unknown, ctx) => addIssues(ctx, duplicateNameIssues(value)), RUN_ALWAYS);

/** True when the device's firmware version is allowed (absent list: any version). */
export function firmwareAllowed(profile: ProductProfile, version: string): boolean {
  if (profile.firmwareVersions === undefined) return true;
  return profile.firmwareVersions.some((pattern) =>
    pattern.endsWith('*') ? version.startsWith(pattern.slice(0, -1)) : version === pattern,
  );
}

/** The key curve of an X.509 profile (P-256 unless the profile says otherwise). */
export function profileCurve(profile: ProductProfile): 'P-256' | 'P-384' {
  return profile.attestation.curve ?? 'P-256';
}
