/**
 * Registration IDs as DPS accepts them: case-insensitive, at most 128 characters of
 * alphanumerics and `- . _ :`, starting and ending with an alphanumeric. X.509 attestation
 * carries the ID as the certificate CN, which limits it to 64 characters. The station uses the
 * lower-case form, which every DPS client and SDK accepts.
 */
export const REGISTRATION_ID_PATTERN = /^[a-z0-9](?:[a-z0-9._:-]{0,126}[a-z0-9])?$/;
export const X509_REGISTRATION_ID_MAX = 64;

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

/** Says what is wrong with a registration ID, or returns undefined when DPS will accept it. */
export function registrationIdProblem(
  id: string,
  options: { x509?: boolean } = {},
): string | undefined {
  if (id.length === 0) return 'is empty';
  const max = options.x509 ? X509_REGISTRATION_ID_MAX : 128;
  if (id.length > max)
    return `is ${id.length} characters; at most ${max}${options.x509 ? ' for X.509 (certificate CN)' : ''}`;
  if (!REGISTRATION_ID_PATTERN.test(id)) {
    return 'may hold only lower-case letters, digits and - . _ : and must start and end with a letter or digit';
  }
  return undefined;
}
