import {
  CborReader,
  CborSyntaxError,
  MAJOR_ARRAY,
  MAJOR_BSTR,
  MAJOR_MAP,
  MAJOR_SIMPLE,
  MAJOR_TSTR,
  MAJOR_UINT,
  SIMPLE_NULL,
  SIMPLE_TRUE,
} from './cborReader.js';
import {
  checkBounds,
  fieldPath,
  MessageFormatError,
  RESERVED_TEXT_MAP_KEY,
  TEXT_MAP_KEY_MAX,
  type FieldPlan,
  type SchemaPlan,
} from './schemaPlan.js';

/**
 * Schema-directed decoding: each key is looked up in the plan and its value read straight into
 * its JS form, with no generic CBOR value tree in between.
 *
 * A field error does not stop the walk. The value is skipped (still checked for well-formedness)
 * and the error kept if its field comes first in the schema; it is thrown once the whole map has
 * been read. So a structural problem anywhere outranks a field error, and among field errors the
 * first in schema order wins, as when cborg decoded everything before the schema was checked: a
 * message is refused for the same reason whatever order its keys arrive in.
 */
export function decodeMap(
  reader: CborReader,
  plan: SchemaPlan,
  prefix: string,
  depth: number,
): Record<string, unknown> {
  const count = reader.arg;
  const out: Record<string, unknown> = {};
  let seen = 0;
  let unknownKeys: Set<unknown> | undefined;
  let error: MessageFormatError | undefined;
  let errorIndex = plan.fields.length;
  for (let i = 0; i < count; i++) {
    const keyAt = reader.pos;
    reader.readHead();
    const field = reader.major === MAJOR_UINT ? plan.byKey.get(reader.arg) : undefined;
    if (field === undefined) {
      // Unknown keys are skipped for forward compatibility (PROTOCOL.md §3), but must be valid.
      reader.pos = keyAt;
      unknownKeys = reader.skipEntry(unknownKeys, depth);
      continue;
    }
    if ((seen & field.bit) !== 0) throw new CborSyntaxError(`duplicate map key ${reader.arg}`);
    seen |= field.bit;
    const valueAt = reader.pos;
    try {
      out[field.name] = decodeValue(reader, field, prefix, depth + 1);
    } catch (err) {
      if (!(err instanceof MessageFormatError)) throw err;
      if (field.index < errorIndex) {
        error = err;
        errorIndex = field.index;
      }
      reader.pos = valueAt;
      reader.skip(depth + 1);
    }
  }
  if ((seen & plan.required) !== plan.required) {
    const missing = plan.fields.find((f) => !f.spec.optional && (seen & f.bit) === 0)!;
    if (missing.index < errorIndex) throw new MessageFormatError(prefix + missing.name, 'missing');
  }
  if (error !== undefined) throw error;
  return out;
}

function wrongType(prefix: string, field: FieldPlan, reason: string): MessageFormatError {
  return new MessageFormatError(prefix + field.name, reason);
}

function decodeValue(reader: CborReader, field: FieldPlan, prefix: string, depth: number): unknown {
  const spec = field.spec;
  reader.readHead();
  const major = reader.major;
  switch (field.kind) {
    case 'uint':
      if (major !== MAJOR_UINT) throw wrongType(prefix, field, 'expected an unsigned integer');
      checkBounds(spec, reader.arg, 'value', prefix, field.name);
      return reader.arg;
    case 'bool':
      if (major !== MAJOR_SIMPLE || reader.arg === SIMPLE_NULL) {
        throw wrongType(prefix, field, 'expected a boolean');
      }
      return reader.arg === SIMPLE_TRUE;
    case 'tstr':
      if (major !== MAJOR_TSTR) throw wrongType(prefix, field, 'expected a text string');
      // Bounds before the text: an oversize string is refused without being decoded.
      checkBounds(spec, reader.arg, 'length', prefix, field.name);
      return reader.text();
    case 'bstr':
      if (major !== MAJOR_BSTR) throw wrongType(prefix, field, 'expected a byte string');
      checkBounds(spec, reader.arg, 'length', prefix, field.name);
      return reader.byteString();
    case 'tstr[]':
    case 'bstr[]':
      if (major !== MAJOR_ARRAY) throw wrongType(prefix, field, 'expected an array');
      checkBounds(spec, reader.arg, 'count', prefix, field.name);
      reader.enter(depth);
      return decodeItems(reader, field, prefix);
    case 'map<tstr,tstr>':
      if (major !== MAJOR_MAP) throw wrongType(prefix, field, 'expected a map');
      checkBounds(spec, reader.arg, 'count', prefix, field.name);
      reader.enter(depth);
      return decodeTextMap(reader, field, prefix + field.name);
    case 'nested':
      if (major !== MAJOR_MAP) throw wrongType(prefix, field, 'expected a map');
      reader.enter(depth);
      return decodeMap(reader, field.nested!, `${prefix}${field.name}.`, depth);
  }
}

function decodeItems(reader: CborReader, field: FieldPlan, prefix: string): unknown[] {
  const count = reader.arg;
  const text = field.kind === 'tstr[]';
  const items: unknown[] = [];
  for (let i = 0; i < count; i++) {
    reader.readHead();
    if (reader.major !== (text ? MAJOR_TSTR : MAJOR_BSTR)) {
      const reason = `expected a ${text ? 'text' : 'byte'} string`;
      throw new MessageFormatError(fieldPath(prefix, field.name, i), reason);
    }
    checkBounds(field.item!, reader.arg, 'length', prefix, field.name, i);
    items.push(text ? reader.text() : reader.byteString());
  }
  return items;
}

function decodeTextMap(reader: CborReader, field: FieldPlan, path: string): Record<string, string> {
  const count = reader.arg;
  const itemMax = field.spec.itemMax;
  const out: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    reader.readHead();
    if (reader.major !== MAJOR_TSTR) {
      throw new MessageFormatError(path, 'expected text keys and values');
    }
    const keyLength = reader.arg;
    const key = reader.text();
    if (key === RESERVED_TEXT_MAP_KEY)
      throw new MessageFormatError(`${path}.${key}`, 'reserved key');
    if (Object.hasOwn(out, key)) throw new CborSyntaxError(`duplicate map key ${key}`);
    reader.readHead();
    if (reader.major !== MAJOR_TSTR) {
      throw new MessageFormatError(path, 'expected text keys and values');
    }
    if (itemMax !== undefined && (keyLength > TEXT_MAP_KEY_MAX || reader.arg > itemMax)) {
      throw new MessageFormatError(`${path}.${key}`, 'entry too long');
    }
    out[key] = reader.text();
  }
  return out;
}
