import { decode, encode } from 'cborg';

/**
 * A tiny schema layer over CBOR maps with integer keys (PROTOCOL.md §3). Each message declares
 * its fields once; the same declaration encodes on one side and validates on the other.
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

const utf8 = new TextEncoder();

function lengthOf(value: string | Uint8Array): number {
  return typeof value === 'string' ? utf8.encode(value).length : value.length;
}

function checkBounds(field: string, spec: FieldSpec, size: number, what: string): void {
  if (spec.min !== undefined && size < spec.min) {
    throw new MessageFormatError(field, `${what} ${size} below ${spec.min}`);
  }
  if (spec.max !== undefined && size > spec.max) {
    throw new MessageFormatError(field, `${what} ${size} above ${spec.max}`);
  }
}

function validateValue(field: string, spec: FieldSpec, value: unknown): unknown {
  const kind = spec.kind;
  if (typeof kind === 'object') {
    if (!(value instanceof Map)) throw new MessageFormatError(field, 'expected a map');
    return fromMap(kind.nested, value, `${field}.`);
  }
  switch (kind) {
    case 'uint':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw new MessageFormatError(field, 'expected an unsigned integer');
      }
      checkBounds(field, spec, value, 'value');
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw new MessageFormatError(field, 'expected a boolean');
      return value;
    case 'tstr':
    case 'bstr': {
      const ok = kind === 'tstr' ? typeof value === 'string' : value instanceof Uint8Array;
      if (!ok)
        throw new MessageFormatError(
          field,
          `expected a ${kind === 'tstr' ? 'text' : 'byte'} string`,
        );
      checkBounds(field, spec, lengthOf(value as string | Uint8Array), 'length');
      return value;
    }
    case 'tstr[]':
    case 'bstr[]': {
      if (!Array.isArray(value)) throw new MessageFormatError(field, 'expected an array');
      checkBounds(field, spec, value.length, 'count');
      const itemSpec: FieldSpec = { key: spec.key, kind: kind === 'tstr[]' ? 'tstr' : 'bstr' };
      if (spec.itemMax !== undefined) itemSpec.max = spec.itemMax;
      return value.map((item, i) => validateValue(`${field}[${i}]`, itemSpec, item));
    }
    case 'map<tstr,tstr>': {
      if (!(value instanceof Map)) throw new MessageFormatError(field, 'expected a map');
      checkBounds(field, spec, value.size, 'count');
      const out: Record<string, string> = {};
      for (const [k, v] of value) {
        if (typeof k !== 'string' || typeof v !== 'string') {
          throw new MessageFormatError(field, 'expected text keys and values');
        }
        if (spec.itemMax !== undefined && (lengthOf(k) > 64 || lengthOf(v) > spec.itemMax)) {
          throw new MessageFormatError(`${field}.${k}`, 'entry too long');
        }
        out[k] = v;
      }
      return out;
    }
  }
}

function fromMap(schema: Schema, map: Map<unknown, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(schema)) {
    const value = map.get(spec.key);
    if (value === undefined) {
      if (!spec.optional) throw new MessageFormatError(prefix + name, 'missing');
      continue;
    }
    out[name] = validateValue(prefix + name, spec, value);
  }
  return out;
}

function toMap(schema: Schema, value: Record<string, unknown>): Map<number, unknown> {
  const map = new Map<number, unknown>();
  for (const [name, spec] of Object.entries(schema)) {
    const v = value[name];
    if (v === undefined) continue;
    if (typeof spec.kind === 'object') {
      map.set(spec.key, toMap(spec.kind.nested, v as Record<string, unknown>));
    } else if (spec.kind === 'map<tstr,tstr>') {
      map.set(spec.key, new Map(Object.entries(v as Record<string, string>)));
    } else {
      map.set(spec.key, v);
    }
  }
  return map;
}

/** Encodes a value with its schema. Validates first, so a sender never emits what it would refuse. */
export function encodeWithSchema<T extends object>(schema: Schema, value: T): Uint8Array {
  const map = toMap(schema, value as Record<string, unknown>);
  fromMap(schema, map);
  return encode(map);
}

/** Decodes and validates a CBOR message; throws MessageFormatError naming the field. */
export function decodeWithSchema<T>(schema: Schema, bytes: Uint8Array): T {
  let value: unknown;
  try {
    value = decode(bytes, {
      useMaps: true,
      rejectDuplicateMapKeys: true,
      allowIndefinite: false,
      allowUndefined: false,
    });
  } catch (err) {
    throw new MessageFormatError('(message)', `invalid CBOR: ${(err as Error).message}`);
  }
  if (!(value instanceof Map)) throw new MessageFormatError('(message)', 'expected a map');
  return fromMap(schema, value) as T;
}
