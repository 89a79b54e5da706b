import { isAttestationMode, templateOptions, type AttestationMode } from './attestationModes.js';
import { iotHubProblem } from './dpsSettings.js';
import { foldProductName } from './productChoice.js';
import { modelCollision, templateProblem, TEMPLATE_SAMPLE } from './registrationIdTemplate.js';

/**
 * The checks of a profiles file that look at more than one field: the attestation's fields
 * against its mode, the registration ID template against the mode and models, the IoT hubs
 * against each other and the allocation policy, the enrollment settings against the mode, and
 * the names of all profiles against each other. Zod skips a refinement once any field of the
 * object failed, so a supervisor met these in waves (a misspelt `{serail}` only after an
 * unrelated type error was fixed). They run regardless (productProfile.ts attaches them with RUN_ALWAYS), so they get
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
  // Only a group member's enrollment names a group; any other mode would ignore the field.
  if (attestation.enrollmentGroupId !== undefined && mode !== 'symmetric-key-group') {
    issues.push({
      path: ['enrollmentGroupId'],
      message: `applies only to symmetric-key-group, not ${mode}: remove it`,
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
 * The IoT hubs of one profile. DPS compares hub names ignoring letter case, so a hub listed twice
 * (in any case) is refused for every policy, and static allocation, which places every device on
 * one hub, needs exactly one: DPS refuses each enrollment otherwise, at sync, after every device
 * showed PASS. A hub whose own entry is unusable has its own issue and is left out here.
 */
export function hubIssues(value: unknown): CrossCheckIssue[] {
  const profile = record(value);
  const hubs = profile?.iotHubs;
  const issues: CrossCheckIssue[] = [];
  let usable = Array.isArray(hubs) || hubs === undefined;
  const first = new Map<string, number>();
  if (Array.isArray(hubs)) {
    hubs.forEach((hub: unknown, index) => {
      if (typeof hub !== 'string' || iotHubProblem(hub) !== undefined) {
        usable = false;
        return;
      }
      const earlier = first.get(hub.toLowerCase());
      if (earlier === undefined) {
        first.set(hub.toLowerCase(), index);
        return;
      }
      issues.push({
        path: ['iotHubs'],
        message: `iotHubs[${index}] "${hub}" is iotHubs[${earlier}] "${String(hubs[earlier])}" again (DPS ignores letter case in hub names): list each hub once`,
      });
    });
  }
  // With an unusable entry the number of hubs is unknown: that entry's issue comes first.
  if (profile?.allocationPolicy === 'static' && usable && first.size !== 1) {
    issues.push({
      path: ['iotHubs'],
      message:
        first.size === 0
          ? 'static allocation needs exactly one hub: list it in iotHubs, such as ["myhub.azure-devices.net"]'
          : `static allocation needs exactly one hub, and iotHubs lists ${first.size}: keep one, or use hashed or geoLatency to spread devices over several`,
    });
  }
  return issues;
}

/** The enrollment settings a symmetric-key-group member cannot carry, as written in a profile. */
const GROUP_SETTINGS = ['initialTwin', 'iotHubs', 'allocationPolicy', 'iotEdge'] as const;

/**
 * A symmetric-key-group member's enrollment carries only its group ID: DPS applies the group's
 * own settings, so these in the profile would be silently dropped. `iotEdge` counts only when
 * true (false is its default, and the parsed value holds the default even when the file left
 * it out); the others have no default, so they are here only when the file wrote them.
 */
export function groupMemberIssues(value: unknown): CrossCheckIssue[] {
  const profile = record(value);
  if (knownMode(record(profile?.attestation)?.mode) !== 'symmetric-key-group') return [];
  return GROUP_SETTINGS.filter((field) =>
    field === 'iotEdge' ? profile?.iotEdge === true : profile?.[field] !== undefined,
  ).map((field) => ({
    path: [field],
    message: `a symmetric-key-group member's enrollment names only its group, whose settings DPS applies: set it on the DPS enrollment group and remove it here`,
  }));
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
