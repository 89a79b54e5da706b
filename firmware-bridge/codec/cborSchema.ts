import { CborReader, CborSyntaxError, MAJOR_MAP } from './cborReader.js';
import { CborWriter } from './cborWriter.js';
import { decodeMap } from './schemaDecoder.js';
import { encodeMap, measureMap } from './schemaEncoder.js';
import { MessageFormatError, planOf, type Schema } from './schemaPlan.js';

/**
 * A tiny schema layer over CBOR maps with integer keys (PROTOCOL.md §3). Each message declares
 * its fields once; the same declaration encodes on one side and validates on the other.
 *
 * Every request and response of every device passes through here, so both directions go
 * straight between the schema and the bytes (schemaEncoder.ts, schemaDecoder.ts) over our own
 * reader and writer for the protocol's CBOR subset (cborReader.ts, cborWriter.ts), instead of
 * through a generic CBOR value tree. The declarations live in schemaPlan.ts with their compiled
 * form, cached per schema.
 */

export { MessageFormatError } from './schemaPlan.js';
export type { FieldKind, FieldSpec, Schema } from './schemaPlan.js';

/** Encodes a value with its schema. Validates first, so a sender never emits what it would refuse. */
export function encodeWithSchema<T extends object>(schema: Schema, value: T): Uint8Array {
  const plan = planOf(schema);
  const record = value as Record<string, unknown>;
  const writer = new CborWriter(measureMap(plan, record, ''));
  encodeMap(writer, plan, record);
  return writer.finish();
}

/**
 * Decodes and validates a CBOR message; throws MessageFormatError naming the field, or
 * `(message)` with `invalid CBOR: …` when the bytes are not one well-formed map of the subset.
 *
 * Byte strings in the result are views of `bytes`, not copies. That is safe because every caller
 * hands over a buffer it never touches again (the frame decoder's COBS output and the chunk
 * reassembly buffers are fresh per message) and nobody mutates a decoded byte string. A caller
 * that reuses its input buffer must copy the byte strings it keeps.
 */
export function decodeWithSchema<T>(schema: Schema, bytes: Uint8Array): T {
  const reader = new CborReader(bytes);
  try {
    reader.readHead();
    if (reader.major !== MAJOR_MAP) {
      // Garbage still reads as invalid CBOR, as before; only a well-formed non-map is this.
      reader.skipBody(1);
      reader.expectEnd();
      throw new MessageFormatError('(message)', 'expected a map');
    }
    let out: Record<string, unknown> = {};
    let fieldError: MessageFormatError | undefined;
    try {
      out = decodeMap(reader, planOf(schema), '', 1);
    } catch (err) {
      if (!(err instanceof MessageFormatError)) throw err;
      fieldError = err;
    }
    // Trailing bytes are structural, so they outrank a field error.
    reader.expectEnd();
    if (fieldError !== undefined) throw fieldError;
    return out as T;
  } catch (err) {
    if (err instanceof CborSyntaxError) {
      throw new MessageFormatError('(message)', `invalid CBOR: ${err.message}`);
    }
    throw err;
  }
}
