import { registrationIdProblem } from '../../certs/registrationIdRules.js';

/**
 * Registration IDs for DPS: the rules (characters, length, the X.509 64-character limit) live
 * in certs/registrationIdRules.ts, where the CA checks them too; this file renders IDs from a
 * product's template and re-exports the rules for the station.
 */
export {
  REGISTRATION_ID_MAX,
  REGISTRATION_ID_PATTERN,
  X509_REGISTRATION_ID_MAX,
  registrationIdProblem,
} from '../../certs/registrationIdRules.js';

export interface RegistrationIdFields {
  model: string;
  serial: string;
  [field: string]: string;
}

/** A field of a registration ID template: `{model}`, `{serial}`, `{ek}`. */
export const TEMPLATE_FIELD = /\{([a-zA-Z]+)\}/g;

/** DPS's rules for a registration ID, in the order the renderer applies them. */
export const REGISTRATION_ID_STEPS = [
  { change: 'lower-cased', apply: (text: string) => text.toLowerCase() },
  // Characters DPS refuses; `refused` names them (profiles validate says which it met).
  { change: 'refused', apply: (text: string) => text.replace(/[^a-z0-9._:-]+/g, '-') },
  {
    change: 'repeated separators became one',
    apply: (text: string) => text.replace(/([._:-])[._:-]+/g, '$1'),
  },
  {
    change: 'separators at the start or end were dropped',
    apply: (text: string) => text.replace(/^[._:-]+|[._:-]+$/g, ''),
  },
] as const;

/** The characters of lower-cased text that DPS refuses in a registration ID. */
export function refusedCharacters(lower: string): string[] {
  return [...new Set(lower.match(/[^a-z0-9._:-]/g) ?? [])];
}

/** Text made into a registration ID by DPS's rules (REGISTRATION_ID_STEPS). */
export function normaliseRegistrationId(text: string): string {
  return REGISTRATION_ID_STEPS.reduce((out, step) => step.apply(out), text);
}

/** How much of a field's raw value an error quotes: enough to find the label, not a flood. */
export const QUOTED_VALUE_MAX = 40;

/**
 * A field's raw value for an error: clipped by code points (never half a surrogate pair) and
 * JSON-quoted, so control characters a device sent show as escapes instead of breaking the log.
 */
export function quotedFieldValue(value: string): string {
  const points = [...value];
  return points.length > QUOTED_VALUE_MAX
    ? `${JSON.stringify(points.slice(0, QUOTED_VALUE_MAX).join(''))}…`
    : JSON.stringify(value);
}

/**
 * Renders a template such as `{model}-{serial}` and normalises the result: lower case, every
 * other character becomes `-`, repeated separators collapse, separators at the ends go.
 * Throws when the template names an unknown field, when the fields listed in `identifying` that
 * it uses all add nothing to the ID, or when the result is not a valid ID.
 *
 * `identifying` names the fields that tell one device from another (the line passes every field
 * but `{model}`). Normalisation turns a value without a character DPS allows (`ＳＮ００１`, `ß`,
 * `!!!`) into separators that then collapse away, so `{model}-{serial}` would give every such
 * device the same ID: the duplicate policy would then refuse a different device as a duplicate,
 * or let it replace the first one's enrollment. Such a device gets no ID rather than a shared
 * one. `{model}` is left out there because the profile chose it: a model written in another
 * script is a documented, noted configuration (loadProfiles.ts) whose serials alone tell its
 * devices apart, and the profile checks already refuse two models that collapse together.
 */
export function renderRegistrationId(
  template: string,
  fields: RegistrationIdFields,
  options: { x509?: boolean; identifying?: readonly string[] } = {},
): string {
  const rendered = template.replace(TEMPLATE_FIELD, (_, name: string) => {
    const value = fields[name];
    if (value === undefined)
      throw new Error(`registration ID template names unknown field {${name}}`);
    return value;
  });
  const id = normaliseRegistrationId(rendered);
  const bare = fieldAddingNothing(template, fields, options.identifying ?? []);
  if (bare !== undefined) {
    throw new Error(
      `registration ID template "${template}": ${bare} ${quotedFieldValue(fields[bare]!)} has no character a registration ID may hold (a-z, 0-9, . _ : -), so {${bare}} adds nothing to the ID ("${id}") and devices like this one would share it`,
    );
  }
  const problem = registrationIdProblem(id, options);
  if (problem) throw new Error(`registration ID "${id}" from template "${template}": ${problem}`);
  return id;
}

/**
 * The first of `names` that the template uses, when every one of them it uses normalises to
 * nothing on its own (whatever surrounds such a value, it only becomes separators, which collapse
 * or drop); undefined as soon as one adds something: `{serial}-{ek}` still tells two TPMs apart
 * when the serial adds nothing.
 */
export function fieldAddingNothing(
  template: string,
  fields: RegistrationIdFields,
  names: readonly string[],
): string | undefined {
  let first: string | undefined;
  for (const [, name] of template.matchAll(TEMPLATE_FIELD)) {
    const value = fields[name!];
    if (!names.includes(name!) || value === undefined) continue;
    if (normaliseRegistrationId(value) !== '') return undefined;
    first ??= name;
  }
  return first;
}
