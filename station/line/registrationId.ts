import { registrationIdProblem } from '../../certs/registrationIdRules.js';

/**
 * Registration IDs for DPS: the rules (characters, length, the X.509 64-character limit) live
 * in certs/registrationIdRules.ts, where the CA checks them too; this file renders IDs from a
 * product's template and re-exports the rules for the station.
 */
export {
  REGISTRATION_ID_PATTERN,
  X509_REGISTRATION_ID_MAX,
  registrationIdProblem,
} from '../../certs/registrationIdRules.js';

export interface RegistrationIdFields {
  model: string;
  serial: string;
  [field: string]: string;
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
  const rendered = template.replace(/\{([a-zA-Z]+)\}/g, (_, name: string) => {
    const value = fields[name];
    if (value === undefined)
      throw new Error(`registration ID template names unknown field {${name}}`);
    return value;
  });
  const id = rendered
    .toLowerCase()
    .replace(/[^a-z0-9._:-]+/g, '-')
    .replace(/([._:-])[._:-]+/g, '$1')
    .replace(/^[._:-]+|[._:-]+$/g, '');
  const problem = registrationIdProblem(id, options);
  if (problem) throw new Error(`registration ID "${id}" from template "${template}": ${problem}`);
  return id;
}
