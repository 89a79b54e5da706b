import {
  decodeWithSchema,
  MessageFormatError,
  type FieldSpec,
  type Schema,
} from '../codec/cborSchema.js';
import { messageSchemas, type MessageName, type Request } from '../codec/messages.js';
import { clipDetail, refuse, type DeviceRefusal } from './deviceOutcome.js';

/**
 * Decodes a request the way firmware must answer it (PROTOCOL.md §3 and §7): invalid CBOR, a
 * missing key or a value of the wrong type is MALFORMED; a well-typed value out of range
 * (length, count, bound) is INVALID_ARGUMENT. The codec's schema checks both at once, so the
 * device decodes twice: first against the schema with its bounds removed, then with them.
 */
export function decodeDeviceRequest<N extends MessageName>(
  name: N,
  data: Uint8Array,
): Request<N> | DeviceRefusal {
  const strict = messageSchemas[name].req;
  try {
    decodeWithSchema(unbounded(strict), data);
  } catch (err) {
    if (err instanceof MessageFormatError) return refuse('MALFORMED', clipDetail(err.message));
    throw err;
  }
  try {
    return decodeWithSchema<Request<N>>(strict, data);
  } catch (err) {
    if (err instanceof MessageFormatError) {
      return refuse('INVALID_ARGUMENT', clipDetail(err.message));
    }
    throw err;
  }
}

const unboundedCache = new WeakMap<Schema, Schema>();

/** The same schema with every length, count and value bound removed. */
function unbounded(schema: Schema): Schema {
  const cached = unboundedCache.get(schema);
  if (cached) return cached;
  const out: Schema = {};
  for (const [name, spec] of Object.entries(schema)) {
    const loose: FieldSpec = {
      key: spec.key,
      kind: typeof spec.kind === 'object' ? { nested: unbounded(spec.kind.nested) } : spec.kind,
    };
    if (spec.optional) loose.optional = true;
    out[name] = loose;
  }
  unboundedCache.set(schema, out);
  return out;
}
