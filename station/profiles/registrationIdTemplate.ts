import {
  REGISTRATION_ID_STEPS,
  refusedCharacters,
  renderRegistrationId,
  REGISTRATION_ID_MAX,
  TEMPLATE_FIELD,
  X509_REGISTRATION_ID_MAX,
  type RegistrationIdFields,
} from '../line/registrationId.js';

/**
 * A profile's registration ID template, checked and shown before the line uses it. The renderer
 * (station/line/registrationId.ts) normalises quietly (lower case, other characters to `-`),
 * which is right for DPS but hides from the supervisor what DPS will get: `profiles validate`
 * shows a sample ID and says what the normalisation changed.
 */

/** The serial number a sample ID is rendered with (devices report their own). */
export const SAMPLE_SERIAL = 'SN00000001';
/** `{ek}` is 52 base32 characters (ekRegistrationId.ts); any 52 of them check the length. */
export const SAMPLE_EK = 'a'.repeat(52);
/** Fields a registration ID template may name, with the sample values it is checked against. */
export const TEMPLATE_SAMPLE = { model: 'LS-SAMPLE-1', serial: SAMPLE_SERIAL } as const;

export interface TemplateOptions {
  x509: boolean;
  tpm: boolean;
}

function fieldNames(options: TemplateOptions): string[] {
  return options.tpm ? ['model', 'serial', 'ek'] : ['model', 'serial'];
}

/** `{model} and {serial}`, `{model}, {serial} and {ek}`. */
function listFields(names: readonly string[], last: 'and' | 'or'): string {
  const braced = names.map((name) => `{${name}}`);
  return braced.length === 1
    ? braced[0]!
    : `${braced.slice(0, -1).join(', ')} ${last} ${braced[braced.length - 1]!}`;
}

function sampleFields(model: string, options: TemplateOptions): RegistrationIdFields {
  return options.tpm
    ? { model, serial: SAMPLE_SERIAL, ek: SAMPLE_EK }
    : { model, serial: SAMPLE_SERIAL };
}

/**
 * What is wrong with a registration ID template, checked when the profile loads rather than on
 * the first device. The renderer turns any character DPS refuses into `-`, so a misspelt
 * placeholder (`{serial_no}`, `{serial`) would not fail there: it would become literal text, and
 * like a template without `{serial}` give every device of the model the same registration ID.
 * It renders with each model of the profile, since a long model name can make the ID too long.
 */
export function templateProblem(
  template: string,
  options: TemplateOptions,
  models: readonly string[] = [TEMPLATE_SAMPLE.model],
): string | undefined {
  const valid = fieldNames(options);
  const stray = /\{[^{}]*\}?|\}/.exec(template.replace(TEMPLATE_FIELD, ''));
  if (stray) {
    return `"${stray[0]}" is not a field; write ${listFields(valid, 'or')}, with both braces`;
  }
  if (!options.tpm && template.includes('{ek}')) {
    return '{ek} (the ID derived from a TPM endorsement key) applies only to the tpm mode';
  }
  for (const [, name] of template.matchAll(TEMPLATE_FIELD)) {
    if (valid.includes(name!)) continue;
    const sameButCase = valid.find((field) => field === name!.toLowerCase());
    const hint = sameButCase ? ` (fields are lower case: {${sameButCase}})` : '';
    return `registration ID template names unknown field {${name!}}${hint}; the fields are ${listFields(valid, 'and')}`;
  }
  for (const model of models) {
    try {
      renderRegistrationId(template, sampleFields(model, options), options);
    } catch (err) {
      const which = models.length > 1 ? ` (model "${model}")` : '';
      return `${(err as Error).message}${which}`;
    }
  }
  if (!template.includes('{serial}') && !(options.tpm && template.includes('{ek}'))) {
    return options.tpm
      ? 'must name {serial} or {ek}: without one every device of the model gets the same registration ID'
      : 'must name {serial}: without it every device of the model gets the same registration ID';
  }
  return undefined;
}

/**
 * Serials shorter than this are common enough (8 to 20 characters; some add a date or a MAC
 * address) that a template leaving less room for `{serial}` deserves a note at validation.
 */
export const SERIAL_ROOM_NOTE = 24;

/**
 * How many characters of serial number the ID of a device of `model` has room for: the sample
 * serial renders in `profiles validate`, a real one may be longer, and each device whose ID
 * would pass DPS's limit fails its run. Undefined when the template has no `{serial}` or cannot
 * render (its problem is reported elsewhere).
 */
export function serialRoom(
  template: string,
  model: string,
  options: TemplateOptions,
): number | undefined {
  const serials = [...template.matchAll(TEMPLATE_FIELD)].filter(([, name]) => name === 'serial');
  if (serials.length === 0) return undefined;
  const id = sampleId(template, model, options);
  if (id === undefined) return undefined;
  const fixed = id.length - serials.length * SAMPLE_SERIAL.length;
  return Math.floor((registrationIdMax(options) - fixed) / serials.length);
}

/**
 * Two models of one profile whose devices would share registration IDs (same serial):
 * normalisation turns what DPS refuses into separators and drops them at the ends, so models
 * that differ only there (`LS 100`, `ls-100`), or are written in another script (`传感器`,
 * `网关`), collapse. The earlier-PASS check and DPS both key on the ID: one device would be
 * refused as a duplicate of the other, or replace its enrollment. Undefined models (unusable as
 * written, with their own issue) take no part.
 */
export function modelCollision(
  template: string,
  models: readonly (string | undefined)[],
  options: TemplateOptions,
): { index: number; message: string } | undefined {
  if (!template.includes('{model}')) return undefined;
  const seen = new Map<string, number>();
  for (const [index, model] of models.entries()) {
    const id = model === undefined ? undefined : sampleId(template, model, options);
    if (id === undefined) continue; // templateProblem reports a template that cannot render
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      return {
        index,
        message: `gives its devices the same registration IDs as models[${earlier}] "${models[earlier]!}" (${id} for serial ${SAMPLE_SERIAL}): two devices with one serial would share an ID in DPS`,
      };
    }
    seen.set(id, index);
  }
  return undefined;
}

/**
 * The sample ID of a model that adds nothing to it (no character DPS allows: `传感器`), or
 * undefined. Its devices' serials alone must then tell them from every other device in DPS.
 */
export function modelAddsNothing(
  template: string,
  model: string,
  options: TemplateOptions,
): string | undefined {
  if (!template.includes('{model}')) return undefined;
  const id = sampleId(template, model, options);
  return id !== undefined && id === sampleId(template, '', options) ? id : undefined;
}

function sampleId(template: string, model: string, options: TemplateOptions): string | undefined {
  try {
    return renderRegistrationId(template, sampleFields(model, options), options);
  } catch {
    return undefined;
  }
}

function registrationIdMax(options: TemplateOptions): number {
  return options.x509 ? X509_REGISTRATION_ID_MAX : REGISTRATION_ID_MAX;
}

/** A registration ID rendered from sample values, and what DPS's rules changed in the text. */
export interface RegistrationIdSample {
  /** The values the template's fields were given, in the template's order. */
  fields: { name: string; value: string }[];
  /** The template with the values put in, before normalisation. */
  text: string;
  /** What DPS gets. */
  id: string;
  /** What normalisation changed (`lower-cased`, `spaces became "-"`); empty when nothing. */
  changes: string[];
}

/**
 * The ID a device of `model` with the sample serial gets. Throws like the renderer when the
 * template cannot give one (a validated profile always can).
 */
export function sampleRegistrationId(
  template: string,
  model: string,
  options: TemplateOptions,
): RegistrationIdSample {
  const values = sampleFields(model, options);
  const fields: RegistrationIdSample['fields'] = [];
  const text = template.replace(TEMPLATE_FIELD, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) return whole;
    if (!fields.some((field) => field.name === name)) fields.push({ name, value });
    return value;
  });
  const id = renderRegistrationId(template, values, options);
  return { fields, text, id, changes: normalisationChanges(text, id) };
}

/**
 * Names the renderer's normalisation steps that changed `text`, walking the renderer's own steps
 * (REGISTRATION_ID_STEPS) to say which of them applied.
 */
export function normalisationChanges(text: string, id: string): string[] {
  if (text === id) return [];
  const changes: string[] = [];
  let before = text;
  for (const step of REGISTRATION_ID_STEPS) {
    const after = step.apply(before);
    if (after !== before && step.change === 'refused') {
      const names = refusedCharacters(before).map((c) => (c === ' ' ? 'spaces' : `"${c}"`));
      changes.push(`${names.join(', ')} became "-"`);
    } else if (after !== before) {
      changes.push(step.change);
    }
    before = after;
  }
  return changes;
}

/** One line for `profiles validate`: the sample values, the ID, and what normalisation did. */
export function sampleRegistrationIdText(sample: RegistrationIdSample): string {
  const values = sample.fields
    .map(({ name, value }) =>
      name === 'ek'
        ? `ek "${value.slice(0, 8)}…" (${value.length} characters)`
        : `${name} "${value}"`,
    )
    .join(', ');
  const changed =
    sample.changes.length > 0
      ? ` (from "${sample.text}"; changed for DPS: ${sample.changes.join(', ')})`
      : '';
  return `registration ID for ${values}: ${sample.id}${changed}`;
}
