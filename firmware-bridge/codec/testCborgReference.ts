import { decode as cborgDecode } from 'cborg';
import { MessageFormatError, type FieldSpec, type Schema } from './cborSchema.js';

/**
 * The decoder our schema codec replaced, built on the cborg library: decode to a generic CBOR
 * value, then check it against the schema. Kept for tests only, as the reference that the codec's
 * answers are compared with (cborSchema.test.ts, cborSchemaDifferential.test.ts).
 */

function legacyValidate(field: string, spec: FieldSpec, value: unknown): unknown {
  const kind = spec.kind;
  const bounds = (size: number, what: string) => {
    if (spec.min !== undefined && size < spec.min) {
      throw new MessageFormatError(field, `${what} ${size} below ${spec.min}`);
    }
    if (spec.max !== undefined && size > spec.max) {
      throw new MessageFormatError(field, `${what} ${size} above ${spec.max}`);
    }
  };
  if (typeof kind === 'object') {
    if (!(value instanceof Map)) throw new MessageFormatError(field, 'expected a map');
    return legacyFromMap(kind.nested, value, `${field}.`);
  }
  switch (kind) {
    case 'uint':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw new MessageFormatError(field, 'expected an unsigned integer');
      }
      bounds(value, 'value');
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw new MessageFormatError(field, 'expected a boolean');
      return value;
    case 'tstr':
    case 'bstr': {
      const ok = kind === 'tstr' ? typeof value === 'string' : value instanceof Uint8Array;
      if (!ok) {
        throw new MessageFormatError(
          field,
          `expected a ${kind === 'tstr' ? 'text' : 'byte'} string`,
        );
      }
      bounds(utf8Length(value as string | Uint8Array), 'length');
      return value;
    }
    case 'tstr[]':
    case 'bstr[]': {
      if (!Array.isArray(value)) throw new MessageFormatError(field, 'expected an array');
      bounds(value.length, 'count');
      const itemSpec: FieldSpec = { key: spec.key, kind: kind === 'tstr[]' ? 'tstr' : 'bstr' };
      if (spec.itemMax !== undefined) itemSpec.max = spec.itemMax;
      return value.map((item, i) => legacyValidate(`${field}[${i}]`, itemSpec, item));
    }
    case 'map<tstr,tstr>': {
      if (!(value instanceof Map)) throw new MessageFormatError(field, 'expected a map');
      bounds(value.size, 'count');
      const out: Record<string, string> = {};
      for (const [k, v] of value) {
        if (typeof k !== 'string' || typeof v !== 'string') {
          throw new MessageFormatError(field, 'expected text keys and values');
        }
        if (spec.itemMax !== undefined && (utf8Length(k) > 64 || utf8Length(v) > spec.itemMax)) {
          throw new MessageFormatError(`${field}.${k}`, 'entry too long');
        }
        out[k] = v;
      }
      return out;
    }
  }
}

function utf8Length(value: string | Uint8Array): number {
  return typeof value === 'string' ? new TextEncoder().encode(value).length : value.length;
}

function legacyFromMap(schema: Schema, map: Map<unknown, unknown>, prefix = '') {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(schema)) {
    const value = map.get(spec.key);
    if (value === undefined) {
      if (!spec.optional) throw new MessageFormatError(prefix + name, 'missing');
      continue;
    }
    out[name] = legacyValidate(prefix + name, spec, value);
  }
  return out;
}

export function legacyDecode(schema: Schema, bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = cborgDecode(bytes, {
      useMaps: true,
      rejectDuplicateMapKeys: true,
      allowIndefinite: false,
      allowUndefined: false,
    });
  } catch (err) {
    throw new MessageFormatError('(message)', `invalid CBOR: ${(err as Error).message}`);
  }
  if (!(value instanceof Map)) throw new MessageFormatError('(message)', 'expected a map');
  return legacyFromMap(schema, value);
}

/** The Map cborg is given: nested schemas and text maps as Maps, absent keys left out. */
export function asCborgMap(schema: Schema, value: Record<string, unknown>): Map<unknown, unknown> {
  const map = new Map<unknown, unknown>();
  for (const [name, spec] of Object.entries(schema)) {
    const v = value[name];
    if (v === undefined) continue;
    if (typeof spec.kind === 'object') {
      map.set(spec.key, asCborgMap(spec.kind.nested, v as Record<string, unknown>));
    } else if (spec.kind === 'map<tstr,tstr>') {
      map.set(spec.key, new Map(Object.entries(v as Record<string, string>)));
    } else {
      map.set(spec.key, v);
    }
  }
  return map;
}
