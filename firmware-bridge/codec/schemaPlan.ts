/**
 * The schema declarations of the wire codec and their compiled form. cborSchema.ts re-exports
 * the declarations; they live here so that the encoder and decoder can share them without an
 * import cycle through the public module.
 */

export type FieldKind =
  'uint' | 'tstr' | 'bstr' | 'bool' | 'tstr[]' | 'bstr[]' | 'map<tstr,tstr>' | { nested: Schema };

export interface FieldSpec {
  key: number;
  kind: FieldKind;
  optional?: boolean;
  /** Inclusive bounds: value for uint, byte length for tstr/bstr, entry count for arrays and maps. */
  min?: number;
  max?: number;
  /** For arrays: the byte-length bound of each element. */
  itemMax?: number;
}

export type Schema = Record<string, FieldSpec>;

/** Raised when a CBOR message does not match its schema; `field` names the offending field. */
export class MessageFormatError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'MessageFormatError';
  }
}

/** Longest key of a `map<tstr,tstr>` entry, in bytes (PROTOCOL.md §4.3); checked with itemMax. */
export const TEXT_MAP_KEY_MAX = 64;

/**
 * The one `map<tstr,tstr>` key refused both ways (PROTOCOL.md §4.3): assigned to a plain object,
 * `__proto__` sets the prototype instead of making an entry, so it would vanish without a word.
 */
export const RESERVED_TEXT_MAP_KEY = '__proto__';

/** `features.keygenCurves[1]`: the name a MessageFormatError gives, built only on error. */
export function fieldPath(prefix: string, name: string, index?: number): string {
  return index === undefined ? prefix + name : `${prefix}${name}[${index}]`;
}

/** Throws unless `size` is within the spec's bounds; the path parts are joined only then. */
export function checkBounds(
  spec: FieldSpec,
  size: number,
  what: string,
  prefix: string,
  name: string,
  index?: number,
): void {
  if (spec.min !== undefined && size < spec.min) {
    throw new MessageFormatError(
      fieldPath(prefix, name, index),
      `${what} ${size} below ${spec.min}`,
    );
  }
  if (spec.max !== undefined && size > spec.max) {
    throw new MessageFormatError(
      fieldPath(prefix, name, index),
      `${what} ${size} above ${spec.max}`,
    );
  }
}

export interface FieldPlan {
  name: string;
  spec: FieldSpec;
  /** `kind` as a string, so the hot paths switch on one type. */
  kind: Exclude<FieldKind, object> | 'nested';
  /** Position in the schema's declaration order: errors are reported in that order. */
  index: number;
  /** This field's bit in a map's seen-mask. */
  bit: number;
  nested?: SchemaPlan;
  /** For arrays: the spec each element is checked against. */
  item?: FieldSpec;
}

export interface SchemaPlan {
  /** In declaration order. */
  fields: FieldPlan[];
  /** In ascending key order, which is canonical CBOR order for small uint keys. */
  byKeyOrder: FieldPlan[];
  byKey: Map<number, FieldPlan>;
  /** Bits of the required fields. */
  required: number;
}

/** A seen-mask is a 31-bit integer; no message comes close to that many fields. */
const MAX_FIELDS = 31;

const plans = new WeakMap<Schema, SchemaPlan>();

/** The compiled form of a schema, built on first use and kept as long as the schema lives. */
export function planOf(schema: Schema): SchemaPlan {
  const cached = plans.get(schema);
  if (cached !== undefined) return cached;
  const entries = Object.entries(schema);
  if (entries.length > MAX_FIELDS) throw new RangeError(`schema of ${entries.length} fields`);
  const plan: SchemaPlan = { fields: [], byKeyOrder: [], byKey: new Map(), required: 0 };
  entries.forEach(([name, spec], index) => {
    if (!Number.isSafeInteger(spec.key) || spec.key < 0 || plan.byKey.has(spec.key)) {
      throw new RangeError(`schema field ${name}: key ${spec.key} invalid or repeated`);
    }
    const bit = 1 << index;
    const field: FieldPlan = {
      name,
      spec,
      kind: typeof spec.kind === 'object' ? 'nested' : spec.kind,
      index,
      bit,
    };
    if (typeof spec.kind === 'object') field.nested = planOf(spec.kind.nested);
    if (spec.kind === 'tstr[]' || spec.kind === 'bstr[]') {
      field.item = { key: spec.key, kind: spec.kind === 'tstr[]' ? 'tstr' : 'bstr' };
      if (spec.itemMax !== undefined) field.item.max = spec.itemMax;
    }
    if (!spec.optional) plan.required |= bit;
    plan.fields.push(field);
    plan.byKey.set(spec.key, field);
  });
  plan.byKeyOrder = [...plan.fields].sort((a, b) => a.spec.key - b.spec.key);
  plans.set(schema, plan);
  return plan;
}
