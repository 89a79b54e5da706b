import { MAJOR_ARRAY, MAJOR_MAP, MAJOR_UINT } from './cborReader.js';
import { CborWriter, headSize, sortTextKeys, utf8Length, wellFormed } from './cborWriter.js';
import {
  checkBounds,
  fieldPath,
  MessageFormatError,
  RESERVED_TEXT_MAP_KEY,
  TEXT_MAP_KEY_MAX,
  type FieldPlan,
  type FieldSpec,
  type SchemaPlan,
} from './schemaPlan.js';

/**
 * Schema-directed encoding in two passes over the value: measureMap validates everything in
 * schema order (the order errors have always been reported in) and returns the exact encoded
 * size; encodeMap then writes in canonical key order into an array of that size. Field paths are
 * only built when an error is thrown.
 */

type Value = Record<string, unknown>;

function isRecord(v: unknown): v is Value {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates `value` against `plan` and returns its encoded size in bytes. */
export function measureMap(plan: SchemaPlan, value: Value, prefix: string): number {
  let count = 0;
  let size = 0;
  // Indexed loops: an iterator object per map would be most of what encoding allocates.
  const fields = plan.fields;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const v = value[field.name];
    if (v === undefined) {
      if (!field.spec.optional) throw new MessageFormatError(prefix + field.name, 'missing');
      continue;
    }
    count++;
    size += headSize(field.spec.key) + measureValue(field, v, prefix);
  }
  return headSize(count) + size;
}

function measureValue(field: FieldPlan, v: unknown, prefix: string): number {
  const spec = field.spec;
  switch (field.kind) {
    case 'uint':
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
        throw new MessageFormatError(prefix + field.name, 'expected an unsigned integer');
      }
      checkBounds(spec, v, 'value', prefix, field.name);
      return headSize(v);
    case 'bool':
      if (typeof v !== 'boolean') {
        throw new MessageFormatError(prefix + field.name, 'expected a boolean');
      }
      return 1;
    case 'tstr':
    case 'bstr':
      return measureString(field.kind, spec, v, prefix, field.name);
    case 'tstr[]':
    case 'bstr[]': {
      if (!Array.isArray(v)) throw new MessageFormatError(prefix + field.name, 'expected an array');
      checkBounds(spec, v.length, 'count', prefix, field.name);
      const itemKind = field.kind === 'tstr[]' ? 'tstr' : 'bstr';
      let size = headSize(v.length);
      for (let i = 0; i < v.length; i++) {
        size += measureString(itemKind, field.item!, v[i], prefix, field.name, i);
      }
      return size;
    }
    case 'map<tstr,tstr>':
      if (!isRecord(v)) throw new MessageFormatError(prefix + field.name, 'expected a map');
      return measureTextMap(spec, v, prefix, field.name);
    case 'nested':
      if (!isRecord(v)) throw new MessageFormatError(prefix + field.name, 'expected a map');
      return measureMap(field.nested!, v, `${prefix}${field.name}.`);
  }
}

function measureString(
  kind: 'tstr' | 'bstr',
  spec: FieldSpec,
  v: unknown,
  prefix: string,
  name: string,
  index?: number,
): number {
  let length: number;
  if (kind === 'tstr') {
    if (typeof v !== 'string') {
      throw new MessageFormatError(fieldPath(prefix, name, index), 'expected a text string');
    }
    length = utf8Length(v);
  } else {
    if (!(v instanceof Uint8Array)) {
      throw new MessageFormatError(fieldPath(prefix, name, index), 'expected a byte string');
    }
    length = v.length;
  }
  checkBounds(spec, length, 'length', prefix, name, index);
  return headSize(length) + length;
}

function measureTextMap(spec: FieldSpec, map: Value, prefix: string, name: string): number {
  const keys = Object.keys(map);
  checkBounds(spec, keys.length, 'count', prefix, name);
  let size = headSize(keys.length);
  let wideKeys: Set<string> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const s = map[k];
    if (typeof s !== 'string') {
      throw new MessageFormatError(prefix + name, 'expected text keys and values');
    }
    if (k === RESERVED_TEXT_MAP_KEY) {
      throw new MessageFormatError(`${prefix}${name}.${k}`, 'reserved key');
    }
    const keyLength = utf8Length(k);
    const valueLength = utf8Length(s);
    if (
      spec.itemMax !== undefined &&
      (keyLength > TEXT_MAP_KEY_MAX || valueLength > spec.itemMax)
    ) {
      throw new MessageFormatError(`${prefix}${name}.${k}`, 'entry too long');
    }
    if (keyLength !== k.length) {
      // Lone surrogates all become U+FFFD: two distinct JS keys could be one key on the wire.
      const wireKey = wellFormed(k);
      wideKeys ??= new Set();
      if (wideKeys.has(wireKey)) {
        throw new MessageFormatError(`${prefix}${name}.${k}`, 'duplicate key');
      }
      wideKeys.add(wireKey);
    }
    size += headSize(keyLength) + keyLength + headSize(valueLength) + valueLength;
  }
  return size;
}

/** Writes a value measureMap has accepted, keys in ascending order. */
export function encodeMap(writer: CborWriter, plan: SchemaPlan, value: Value): void {
  let count = 0;
  const fields = plan.byKeyOrder;
  for (let i = 0; i < fields.length; i++) if (value[fields[i]!.name] !== undefined) count++;
  writer.head(MAJOR_MAP, count);
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const v = value[field.name];
    if (v === undefined) continue;
    writer.head(MAJOR_UINT, field.spec.key);
    encodeValue(writer, field, v);
  }
}

function encodeValue(writer: CborWriter, field: FieldPlan, v: unknown): void {
  switch (field.kind) {
    case 'uint':
      writer.head(MAJOR_UINT, v as number);
      return;
    case 'bool':
      writer.bool(v as boolean);
      return;
    case 'tstr':
      writer.text(v as string, utf8Length(v as string));
      return;
    case 'bstr':
      writer.byteString(v as Uint8Array);
      return;
    case 'tstr[]':
    case 'bstr[]': {
      const items = v as (string | Uint8Array)[];
      writer.head(MAJOR_ARRAY, items.length);
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        if (typeof item === 'string') writer.text(item, utf8Length(item));
        else writer.byteString(item);
      }
      return;
    }
    case 'map<tstr,tstr>':
      encodeTextMap(writer, v as Record<string, string>);
      return;
    case 'nested':
      encodeMap(writer, field.nested!, v as Value);
  }
}

/** Text keys go in the order cborg wrote them (RFC 7049 canonical: shorter, then bytewise). */
function encodeTextMap(writer: CborWriter, map: Record<string, string>): void {
  const keys = sortTextKeys(Object.keys(map));
  writer.head(MAJOR_MAP, keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const value = map[key]!;
    writer.text(key, utf8Length(key));
    writer.text(value, utf8Length(value));
  }
}
