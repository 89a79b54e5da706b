import { isAttestationMode, templateOptions, type AttestationMode } from './attestationModes.js';
import { foldProductName } from './productChoice.js';
import { modelCollision, templateProblem, TEMPLATE_SAMPLE } from './registrationIdTemplate.js';

/**
 * The checks of a profiles file that look at more than one field: the attestation's fields
 * against its mode, the registration ID template against the mode and models, and the names of
 * all profiles against each other. Zod skips a refinement once any field of the object failed,
 * so a supervisor met these in waves (a misspelt `{serail}` only after an unrelated type error
 * was fixed). They run regardless (productProfile.ts attaches them with RUN_ALWAYS), so they get
 * the value as parsed so far, which may be anything: each reads only the fields it needs, and
 * skips a check whose input field is itself unusable (that field's own issue says what to fix).
 */

/** One problem a cross-field check found: the path under the checked object, and what. */
export interface CrossCheckIssue {
  path: (string | number)[];
  message: string;
}

/** zod's `when`: run the check even when other fields of the object failed. */
export const RUN_ALWAYS = { when: (): boolean => true };

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A mode the schema knows, or undefined (its own issue reports it). */
function knownMode(value: unknown): AttestationMode | undefined {
  return isAttestationMode(value) ? value : undefined;
}

/** `attestation`'s fields against its mode; nothing to say while the mode itself is unusable. */
export function attestationIssues(value: unknown): CrossCheckIssue[] {
  const attestation = record(value);
  const mode = knownMode(attestation?.mode);
  if (attestation === undefined || mode === undefined) return [];
  const issues: CrossCheckIssue[] = [];
  if (mode === 'symmetric-key-group' && attestation.enrollmentGroupId === undefined) {
    issues.push({
      path: ['enrollmentGroupId'],
      message: 'required when mode is symmetric-key-group',
    });
  }
  if (attestation.ekCertificate !== undefined && mode !== 'tpm') {
    issues.push({ path: ['ekCertificate'], message: `applies only to the tpm mode, not ${mode}` });
  }
  if (attestation.curve !== undefined && !mode.startsWith('x509-')) {
    issues.push({ path: ['curve'], message: `applies only to the x509 modes, not ${mode}` });
  }
  return issues;
}

/**
 * The registration ID template of one profile. It needs the mode (which fields exist, and
 * X.509's 64-character limit); the models only lengthen the ID, so while they are unusable the
 * template is rendered with the sample model, and a too-long model is found once they are fixed.
 */
export function templateIssues(value: unknown): CrossCheckIssue[] {
  const profile = record(value);
  const template = record(profile?.registrationId)?.template;
  const mode = knownMode(record(profile?.attestation)?.mode);
  // An empty template has its own issue (the schema's).
  if (typeof template !== 'string' || template === '' || mode === undefined) return [];
  const models = Array.isArray(profile?.models)
    ? profile.models.filter((m): m is string => typeof m === 'string' && m.trim() !== '')
    : [];
  const options = templateOptions(mode);
  const problem = templateProblem(
    template,
    options,
    models.length > 0 ? models : [TEMPLATE_SAMPLE.model],
  );
  if (problem !== undefined) return [{ path: ['registrationId', 'template'], message: problem }];
  // Only the models as written take part: a blank one has its own issue, and its index must
  // stay the one in the file.
  if (!Array.isArray(profile?.models)) return [];
  const written = profile.models.map((m: unknown) =>
    typeof m === 'string' && m.trim() !== '' ? m : undefined,
  );
  const collision = modelCollision(template, written, options);
  return collision === undefined
    ? []
    : [{ path: ['models', collision.index], message: collision.message }];
}

/**
 * Two profiles of one name. `--product NAME` picks a profile ignoring letter case (a supervisor
 * types it from memory), so "Sensor" and "sensor" in one file are refused too: one of them could
 * not be picked by its name. Every profile with a usable name takes part, whatever else is wrong
 * with it.
 */
export function duplicateNameIssues(value: unknown): CrossCheckIssue[] {
  const profiles = record(value)?.profiles;
  if (!Array.isArray(profiles)) return [];
  const first = new Map<string, { index: number; name: string }>();
  const issues: CrossCheckIssue[] = [];
  profiles.forEach((profile: unknown, index) => {
    const name = record(profile)?.name;
    if (typeof name !== 'string' || name.trim() === '') return;
    const earlier = first.get(foldProductName(name));
    if (earlier === undefined) {
      first.set(foldProductName(name), { index, name });
      return;
    }
    issues.push({
      path: ['profiles', index, 'name'],
      message:
        earlier.name === name
          ? `another profile is already named "${name}"`
          : `"${name}" differs from profiles[${earlier.index}].name "${earlier.name}" only in letter case or spaces; --product picks profiles ignoring both, so give each a name of its own`,
    });
  });
  return issues;
}
