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

/**
 * Renders a template such as `{model}-{serial}` and normalises the result: lower case, every
 * other character becomes `-`, repeated separators collapse, separators at the ends go.
 * Throws when the template names an unknown field or the result is not a valid ID.
 */
export function renderRegistrationId(
  template: string,
  fields: RegistrationIdFields,
  options: { x509?: boolean } = {},
): string {
  const rendered = template.replace(TEMPLATE_FIELD, (_, name: string) => {
    const value = fields[name];
    if (value === undefined)
      throw new Error(`registration ID template names unknown field {${name}}`);
    return value;
  });
  const id = normaliseRegistrationId(rendered);
  const problem = registrationIdProblem(id, options);
  if (problem) throw new Error(`registration ID "${id}" from template "${template}": ${problem}`);
  return id;
}
