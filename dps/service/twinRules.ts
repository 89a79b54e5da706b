/**
 * The IoT Hub device twin rules an enrollment's `initialTwin` must keep. DPS writes
 * `initialTwin.tags` and `initialTwin.properties.desired` into the hub's twin when it registers
 * the device, so a twin the hub refuses fails there, long after the enrollment was written. The
 * station's profile schema and the DPS emulator both check these rules, with the same words.
 *
 * The rules (IoT Hub device twin docs, "Tags and properties format"), and how they are read here:
 * - Property names, at every level: case-sensitive UTF-8 of at most 1 KB (1024 bytes), without
 *   control characters (Unicode category Cc: C0, DEL and C1), `.`, `$` or a space.
 * - String values: at most 4 KB (4096 bytes of UTF-8, the text itself without JSON quoting).
 * - Nesting: at most 10 levels of objects, counted as the docs' example does: the tags (or
 *   desired properties) object itself is not a level, `{"one": {…{"ten": {"property": "value"}}}}`
 *   is the deepest allowed, so an object as the value of `property` there is refused. Arrays add
 *   no level; objects inside them count like any other.
 * - Size: tags at most 8 KB (8192 bytes), desired properties at most 32 KB (32768 bytes), measured
 *   as the UTF-8 bytes of the section's compact JSON (JSON.stringify, as the station sends it).
 */

export type TwinSection = 'tags' | 'desired';

export const TWIN_LIMITS = {
  nameBytes: 1024,
  stringBytes: 4096,
  depth: 10,
  sectionBytes: { tags: 8192, desired: 32_768 } as Record<TwinSection, number>,
} as const;

/** The read-only members a service adds at the top of desired properties and echoes back. */
const READ_ONLY_DESIRED = new Set(['$metadata', '$version']);

/** One broken rule: the path under the section (`['fw.version']`) and what is wrong. */
export interface TwinProblem {
  path: (string | number)[];
  message: string;
}

export interface TwinCheckOptions {
  /**
   * Skip `$metadata` and `$version` at the top of desired properties: DPS returns them on a read
   * and accepts them back on a write. A profile written by hand has no reason to hold them.
   */
  allowReadOnly?: boolean;
}

const SECTION_WORDS: Record<TwinSection, string> = {
  tags: 'the tags',
  desired: 'the desired properties',
};

const CONTROL = /\p{Cc}/u;

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What is wrong with a property name, or undefined when IoT Hub accepts it. */
export function twinNameProblem(name: string): string | undefined {
  const found: string[] = [];
  if (name.includes('.')) found.push('a dot (.)');
  if (name.includes('$')) found.push('a dollar sign ($)');
  if (name.includes(' ')) found.push('a space');
  if (CONTROL.test(name)) found.push('a control character');
  if (found.length > 0) {
    return `this property name contains ${found.join(', ')}; IoT Hub twin property names may not contain dots, dollar signs, spaces or control characters`;
  }
  const bytes = utf8Bytes(name);
  if (bytes > TWIN_LIMITS.nameBytes) {
    return `this property name is ${bytes} bytes long; IoT Hub allows at most ${TWIN_LIMITS.nameBytes} bytes (1 KB) in a twin property name`;
  }
  return undefined;
}

/**
 * Every rule the twin section (`tags` or `desired` properties object) breaks. Paths are under
 * the section; a too-deep object is reported once, not with everything inside it.
 */
export function twinSectionProblems(
  section: TwinSection,
  value: Record<string, unknown>,
  options: TwinCheckOptions = {},
): TwinProblem[] {
  const problems: TwinProblem[] = [];
  const checked =
    options.allowReadOnly === true && section === 'desired'
      ? Object.fromEntries(Object.entries(value).filter(([key]) => !READ_ONLY_DESIRED.has(key)))
      : value;

  const visit = (node: unknown, path: (string | number)[], depth: number): void => {
    if (typeof node === 'string') {
      const bytes = utf8Bytes(node);
      if (bytes > TWIN_LIMITS.stringBytes) {
        problems.push({
          path,
          message: `this text is ${bytes} bytes long; IoT Hub allows at most ${TWIN_LIMITS.stringBytes} bytes (4 KB) in one twin value`,
        });
      }
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((item, index) => visit(item, [...path, index], depth));
      return;
    }
    if (!isObject(node)) return;
    if (depth > TWIN_LIMITS.depth) {
      problems.push({
        path,
        message: `this object is nested ${depth} levels deep in ${SECTION_WORDS[section]}; IoT Hub allows at most ${TWIN_LIMITS.depth} levels of objects`,
      });
      return;
    }
    for (const [key, child] of Object.entries(node)) {
      const problem = twinNameProblem(key);
      if (problem !== undefined) problems.push({ path: [...path, key], message: problem });
      visit(child, [...path, key], depth + 1);
    }
  };
  visit(checked, [], 0);

  const bytes = utf8Bytes(JSON.stringify(checked));
  const limit = TWIN_LIMITS.sectionBytes[section];
  if (bytes > limit) {
    problems.push({
      path: [],
      message: `${SECTION_WORDS[section]} take ${bytes} bytes as JSON; IoT Hub allows at most ${limit} bytes (${limit / 1024} KB)`,
    });
  }
  return problems;
}

/** `['tags', 'fw.version', 0]` under `initialTwin` → `initialTwin.tags["fw.version"][0]`. */
export function twinPath(root: string, path: readonly (string | number)[]): string {
  let out = root;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}
