import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';

/**
 * A parsed value with every field that holds its schema's default left out, at any depth, so that
 * what is compared is what the file says rather than what this version of the schema fills in: a
 * release adding a field with a default then leaves existing values as they were. The defaults
 * are read from the schema itself, so a new one needs no list kept by hand.
 */

type Schema = z.core.$ZodType;

/**
 * One node of a schema as the walk reads it; the only place that looks into zod's internals.
 * Anything not named here is a leaf: its value is kept as it is, which can never hide a change.
 * A default that only such a node could reach is found by `defaultsOutOfReach`, in a test.
 */
type SchemaNode =
  | { kind: 'object'; fields: Readonly<Record<string, Schema>> }
  | { kind: 'default'; inner: Schema; defaultValue: unknown }
  | { kind: 'wrapper'; inner: Schema }
  | { kind: 'array'; item: Schema }
  | { kind: 'record'; entry: Schema }
  | { kind: 'leaf' };

function readNode(schema: Schema): SchemaNode {
  const def = (schema as z.core.$ZodTypes)._zod.def;
  switch (def.type) {
    case 'object':
      return { kind: 'object', fields: def.shape };
    case 'default':
      return { kind: 'default', inner: def.innerType, defaultValue: def.defaultValue };
    case 'optional':
      return { kind: 'wrapper', inner: def.innerType };
    case 'pipe':
      // A parsed value is the pipe's output (the host a transform made of an endpoint).
      return { kind: 'wrapper', inner: def.out };
    case 'array':
      return { kind: 'array', item: def.element };
    case 'record':
      return { kind: 'record', entry: def.valueType };
    default:
      return { kind: 'leaf' };
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `value`, parsed by `schema`, without the fields that hold the schema's default for them. */
export function withoutDefaults(schema: Schema, value: unknown): unknown {
  const node = readNode(schema);
  switch (node.kind) {
    case 'object':
      return isPlainObject(value) ? withoutDefaultFields(node.fields, value) : value;
    case 'default':
    case 'wrapper':
      return value === undefined ? undefined : withoutDefaults(node.inner, value);
    // Items and entries are never left out: an item equal to a default still takes its place.
    case 'array':
      return Array.isArray(value) ? value.map((item) => withoutDefaults(node.item, item)) : value;
    case 'record':
      return isPlainObject(value)
        ? Object.fromEntries(
            Object.entries(value).map(([key, entry]) => [key, withoutDefaults(node.entry, entry)]),
          )
        : value;
    case 'leaf':
      return value;
  }
}

function withoutDefaultFields(
  fields: Readonly<Record<string, Schema>>,
  value: Record<string, unknown>,
): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    // A key the schema does not name (a loose object's extra) is data: kept as it is.
    const schema = Object.hasOwn(fields, key) ? fields[key] : undefined;
    const stripped = schema === undefined ? field : withoutDefaults(schema, field);
    if (stripped === undefined || (schema !== undefined && isDefault(schema, stripped))) continue;
    kept[key] = stripped;
  }
  return kept;
}

/**
 * Whether `stripped` is the default `schema` gives its field. The default is stripped too, so an
 * object default (`certificate: { validityDays: 1095 }`) matches a file that spells out all, some
 * or none of it, and still does once a release adds another defaulted field to it.
 */
function isDefault(schema: Schema, stripped: unknown): boolean {
  const node = readNode(schema);
  return (
    node.kind === 'default' &&
    isDeepStrictEqual(stripped, withoutDefaults(node.inner, node.defaultValue))
  );
}

/** The nodes that substitute a value of their own, and `lazy`, whose inside is not looked into. */
const DEFAULTING_TYPES: ReadonlySet<string> = new Set(['default', 'prefault', 'catch', 'lazy']);

/**
 * Paths of the defaults (and default-like nodes) in `schema` that `withoutDefaults` cannot
 * strip: ones inside a construct it treats as a leaf (a union, a tuple, a pipe's input...), or a
 * `prefault` or `catch` it does not read. Meant for a test over the real schema, which must find
 * none: a schema change that needs the walk taught something fails there, not on a line. Nodes
 * are matched by identity, so one schema object used both in and out of reach counts as reached.
 */
export function defaultsOutOfReach(schema: Schema): string[] {
  const reached = new Set<Schema>();
  addDefaultsReached(schema, new Set(), reached);
  return everyDefault(schema, '', new Set())
    .filter((found) => !reached.has(found.schema))
    .map((found) => found.path);
}

/** Adds to `reached` the `default` nodes `withoutDefaults` walks to; `seen` stops a recursion. */
function addDefaultsReached(schema: Schema, seen: Set<Schema>, reached: Set<Schema>): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  const node = readNode(schema);
  if (node.kind === 'default') reached.add(schema);
  for (const child of walkedInto(node)) addDefaultsReached(child, seen, reached);
}

/** The schemas `withoutDefaults` walks into from `node`. */
function walkedInto(node: SchemaNode): Schema[] {
  switch (node.kind) {
    case 'object':
      return Object.values(node.fields);
    case 'default':
    case 'wrapper':
      return [node.inner];
    case 'array':
      return [node.item];
    case 'record':
      return [node.entry];
    case 'leaf':
      return [];
  }
}

/**
 * Every default-like node of `schema`, found by looking at each schema its definition holds
 * (directly, in a list, or in a shape), whatever the construct: independent of `readNode`, so
 * that it sees what the walk does not.
 */
function everyDefault(
  schema: Schema,
  path: string,
  seen: Set<Schema>,
): Array<{ path: string; schema: Schema }> {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const def = schema._zod.def;
  const found = DEFAULTING_TYPES.has(def.type) ? [{ path: path || '(root)', schema }] : [];
  for (const [key, held] of Object.entries(def)) {
    if (key === 'checks') continue;
    for (const [name, child] of schemasIn(key, held)) {
      found.push(...everyDefault(child, path === '' ? name : `${path}.${name}`, seen));
    }
  }
  return found;
}

/** The schemas a definition's field holds, each with a name for its path. */
function schemasIn(key: string, held: unknown): Array<[string, Schema]> {
  if (held instanceof z.core.$ZodType) return [[key, held]];
  const named: Array<[string, unknown]> = Array.isArray(held)
    ? held.map((item, index) => [`${key}[${index}]`, item])
    : isPlainObject(held)
      ? Object.entries(held)
      : [];
  return named.filter((entry): entry is [string, Schema] => entry[1] instanceof z.core.$ZodType);
}
