import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { findJsonSyntaxError, lineAndColumn } from './jsonSyntaxError.js';
import { templateOptions } from './attestationModes.js';
import { profilesFileSchema, type ProductProfile } from './productProfile.js';
import { modelAddsNothing, SERIAL_ROOM_NOTE, serialRoom } from './registrationIdTemplate.js';

export type ProfileErrorCode = 'PROFILE_UNREADABLE' | 'PROFILE_INVALID';

/** One problem in a profiles file: where (`profiles[0].dps.idScope`) and what. */
export interface ProfileIssue {
  path: string;
  message: string;
}

/**
 * A profiles file the station cannot use. The message names the file and every field path, so a
 * supervisor can fix the file without reading code.
 */
export class ProfileError extends Error {
  readonly code: ProfileErrorCode;
  readonly detail: string | undefined;
  readonly file: string;
  readonly issues: readonly ProfileIssue[];

  constructor(
    code: ProfileErrorCode,
    file: string,
    issues: readonly ProfileIssue[],
    detail?: string,
  ) {
    const list = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    super(`Product profiles in ${file} cannot be used: ${list}`);
    this.name = 'ProfileError';
    this.code = code;
    this.file = file;
    this.issues = issues;
    this.detail = detail;
  }

  toJSON(): { code: ProfileErrorCode; message: string; detail?: string } {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}

/** Profiles as loaded, with what the station rewrote in them (shown by `profiles validate`). */
export interface LoadedProfiles {
  profiles: ProductProfile[];
  /** A field the station reads in another spelling than written, such as a URL as a host. */
  notes: ProfileIssue[];
}

/** Reads and validates a profiles file `{ "profiles": [ … ] }`; throws ProfileError. */
export async function loadProfiles(path: string): Promise<ProductProfile[]> {
  return (await loadProfilesWithNotes(path)).profiles;
}

/** Like loadProfiles, with the notes on what was normalised. */
export async function loadProfilesWithNotes(path: string): Promise<LoadedProfiles> {
  let text: string;
  try {
    const bytes = await readFile(path);
    // Windows Notepad's "Unicode" and PowerShell's `>` save UTF-16: JSON.parse would only say
    // it met a NUL character.
    if (bytes.includes(0)) {
      throw new ProfileError('PROFILE_UNREADABLE', path, [
        {
          path: '',
          message:
            'the file is saved as UTF-16 (or holds NUL bytes); save it as UTF-8 (in Notepad: Save As, Encoding UTF-8)',
        },
      ]);
    }
    // Windows PowerShell and older Notepad save UTF-8 with a byte order mark; JSON.parse refuses it.
    text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    if (err instanceof ProfileError) throw err;
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ProfileError(
      'PROFILE_UNREADABLE',
      path,
      [{ path: '', message: `the file cannot be read (${reason})` }],
      (err as Error).message,
    );
  }
  return parseProfilesWithNotes(text, path);
}

/** Validates the text of a profiles file; `source` names it in errors. */
export function parseProfiles(text: string, source: string): ProductProfile[] {
  return parseProfilesWithNotes(text, source).profiles;
}

/** Like parseProfiles, with the notes on what was normalised. */
export function parseProfilesWithNotes(text: string, source: string): LoadedProfiles {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    throw new ProfileError(
      'PROFILE_UNREADABLE',
      source,
      [{ path: '', message: jsonProblem(text) }],
      message,
    );
  }
  // The schema walks nested values recursively: a value thousands of levels deep would end in
  // a stack overflow instead of an answer. No field of a profile is near this deep.
  const deep = pathDeeperThan(value, MAX_DEPTH);
  if (deep !== undefined) {
    throw new ProfileError('PROFILE_INVALID', source, [
      {
        path: formatPath(deep),
        message: `nested more than ${MAX_DEPTH} levels deep (a twin may nest at most 10 levels of objects)`,
      },
    ]);
  }
  // One pass reports every problem: the cross-field checks (profileCrossChecks.ts), duplicate
  // names included, run even where other fields failed.
  const parsed = profilesFileSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    throw new ProfileError('PROFILE_INVALID', source, parsed.error.issues.map(toIssue));
  }
  const profiles = parsed.data.profiles;
  return {
    profiles,
    notes: [...normalisedEndpoints(value, profiles), ...templateNotes(profiles)],
  };
}

/**
 * What a valid template will do to some devices: leave little room for the serial (the sample
 * ID fits, but a device with a longer serial fails every run, RUN_REGISTRATION_ID_INVALID), or
 * take nothing from a model written in characters DPS does not allow.
 */
function templateNotes(profiles: ProductProfile[]): ProfileIssue[] {
  const notes: ProfileIssue[] = [];
  profiles.forEach((profile, index) => {
    const { template } = profile.registrationId;
    const options = templateOptions(profile.attestation.mode);
    const path = `profiles[${index}].registrationId.template`;
    for (const model of profile.models) {
      const room = serialRoom(template, model, options);
      if (room !== undefined && room < SERIAL_ROOM_NOTE) {
        notes.push({
          path,
          message: `with model "${model}" the ID has room for serial numbers of at most ${room} characters; a device with a longer one fails its run (RUN_REGISTRATION_ID_INVALID): shorten the template or the model name`,
        });
      }
      const bare = modelAddsNothing(template, model, options);
      if (bare !== undefined) {
        notes.push({
          path,
          message: `model "${model}" has no character a registration ID may hold (a-z, 0-9, . _ : -), so {model} adds nothing to its devices' IDs (${bare}): their serial numbers alone must tell them from every other device in this DPS`,
        });
      }
    }
  });
  return notes;
}

/**
 * The global endpoints given as URLs: the schema reads `https://host/` as `host`, and the
 * supervisor should see that the devices get `host`. The raw value is read back from the
 * parsed JSON because the schema's output no longer holds it.
 */
function normalisedEndpoints(value: unknown, profiles: ProductProfile[]): ProfileIssue[] {
  const raw = (value as { profiles: { dps: { globalEndpoint?: unknown } }[] }).profiles;
  const notes: ProfileIssue[] = [];
  profiles.forEach((profile, index) => {
    const written = raw[index]?.dps.globalEndpoint;
    if (typeof written === 'string' && written !== profile.dps.globalEndpoint) {
      notes.push({
        path: `profiles[${index}].dps.globalEndpoint`,
        message: `"${written}" is a URL; devices are given its host name, ${profile.dps.globalEndpoint}`,
      });
    }
  });
  return notes;
}

/** Deeper than any profile field goes, twins included. */
const MAX_DEPTH = 32;

/** The path to the first value nested deeper than `limit`, walked without recursion. */
function pathDeeperThan(value: unknown, limit: number): PropertyKey[] | undefined {
  const stack: { value: unknown; path: PropertyKey[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: next, path } = stack.pop()!;
    if (typeof next !== 'object' || next === null) continue;
    if (path.length >= limit) return path;
    const entries = Array.isArray(next) ? next.entries() : Object.entries(next);
    for (const [key, child] of entries) stack.push({ value: child, path: [...path, key] });
  }
  return undefined;
}

/** `['profiles', 0, 'dps', 'idScope']` → `profiles[0].dps.idScope`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_$][\w$]*$/.test(part)) {
      out += out ? `.${part}` : part;
    } else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

function toIssue(issue: z.core.$ZodIssue): ProfileIssue {
  if (issue.code === 'unrecognized_keys') {
    // Name each unknown field in the path itself: that is where the supervisor has to look.
    return {
      path: issue.keys.map((key) => formatPath([...issue.path, key])).join(', '),
      message: 'unknown field (check the spelling)',
    };
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return { path: formatPath(issue.path), message: 'required' };
  }
  return { path: formatPath(issue.path), message: issue.message };
}

/**
 * Where and how the text breaks JSON, in the supervisor's words: V8's own message names no
 * position for some errors (a trailing comma) and quotes the text around it over several lines,
 * so it goes to the detail only.
 */
function jsonProblem(text: string): string {
  const error = findJsonSyntaxError(text);
  if (error === undefined) return 'not valid JSON'; // the scanner and V8 disagree: say no more
  const before = text.slice(0, error.offset).trimEnd();
  const trailingComma =
    before.endsWith(',') && (error.found === '"]"' || error.found === '"}"')
      ? ' (JSON allows no comma before a closing bracket: remove the last comma)'
      : '';
  return `not valid JSON at ${lineAndColumn(text, error.offset)}: expected ${error.expected}, found ${error.found}${trailingComma}`;
}
