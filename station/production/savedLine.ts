/**
 * The line a supervisor saved for this station (`station line save`): which profiles file and
 * product, which ports, how fast, in which mode. `station start` (what `npm start` runs) and
 * `station serve` run it when no line is given on the command line, so a workstation that was
 * set up once starts its real line, not the DEMO. It holds no secret: the CA passphrase is
 * still asked at every start.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../certs/ca/caFiles.js';
import { StationStartError } from '../api/stationFactory.js';
import { formatPath } from '../profiles/loadProfiles.js';
import type { LineSelection } from './productionStation.js';

/** The file, in the station's data folder. */
export const SAVED_LINE_FILE = 'line.json';

/** The UART rates a line may be saved with (the schema's bounds, and its words below). */
const BAUD_MIN = 300;
const BAUD_MAX = 10_000_000;

/**
 * What each field of line.json takes, in the words a supervisor editing it by hand can act on:
 * zod's own (`Invalid option: expected one of "auto"|"manual"`) reads as a program's. It is
 * indexed by every field of SavedLine (problemText), so a field added to the schema without its
 * words does not compile.
 */
const FIELD_WORDS = {
  version: 'expected 1',
  profiles: 'expected an absolute path to the profiles file',
  product: 'expected the name of a product in the profiles file',
  devices: 'expected a list of port paths',
  discover: 'expected true or false',
  baud: `expected a whole number from ${BAUD_MIN} to ${BAUD_MAX}`,
  mode: 'expected auto or manual',
} as const;

/** One entry of `devices`. */
const DEVICE_WORDS = 'expected a port path such as /dev/ttyUSB0 or tcp://10.0.0.5:4001';

const savedLineSchema = z
  .object({
    version: z.literal(1),
    profiles: z.string().refine(isAbsolute, FIELD_WORDS.profiles),
    product: z.string().min(1).optional(),
    // A blank entry is no port: it would only ever be tried and fail.
    devices: z.array(z.string().regex(/\S/)).refine((d) => new Set(d).size === d.length, {
      error: 'a device is listed twice',
    }),
    discover: z.boolean(),
    baud: z.number().int().min(BAUD_MIN).max(BAUD_MAX),
    mode: z.enum(['auto', 'manual']),
  })
  .strict()
  .refine((line) => line.devices.length > 0 || line.discover, {
    error: 'no ports: list devices, or set discover',
    path: ['devices'],
  });

/** A saved line, as `station line save` wrote it. */
export type SavedLine = z.infer<typeof savedLineSchema>;

export function savedLinePath(dataDir: string): string {
  return join(dataDir, SAVED_LINE_FILE);
}

/**
 * The saved line of `dataDir`, or undefined when none was saved. A file that cannot be read or
 * does not fit is STATION_LINE_INVALID, naming the field: a start must not fall back to the
 * DEMO, and the technician believe the real line runs, because one value was mistyped.
 */
export function readSavedLine(dataDir: string): SavedLine | undefined {
  const path = savedLinePath(dataDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw invalid(path, (err as Error).message);
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw invalid(path, `not JSON: ${(err as Error).message}`);
  }
  // The input is reported so that a missing field can be told from a wrong one.
  const parsed = savedLineSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) throw invalid(path, parsed.error.issues.map(problemText).join('; '));
  return parsed.data;
}

/** One problem of line.json: where, written as `devices[0]`, and what the field takes. */
function problemText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((key) => `${formatPath([...issue.path, key])}: unknown field (check the spelling)`)
      .join('; ');
  }
  const where = formatPath(issue.path);
  if (where === '') return "the file: expected a JSON object with the line's settings";
  // A refinement's own text says what is wrong with a value of the right kind (listed twice).
  if (issue.code === 'custom') return `${where}: ${issue.message}`;
  // JSON has no undefined: no input is a field left out (an enum's or literal's issue as well).
  if (issue.input === undefined) return `${where} is required`;
  const field = issue.path[0] as keyof SavedLine;
  const words = issue.path.length > 1 && field === 'devices' ? DEVICE_WORDS : FIELD_WORDS[field];
  return `${where}: ${words}`;
}

/** The saved line as the line it runs. */
export function savedLineSelection(dataDir: string, saved: SavedLine): LineSelection {
  return {
    dataDir,
    profilesFile: saved.profiles,
    ...(saved.product !== undefined && { product: saved.product }),
    ports: saved.devices,
    discover: saved.discover,
    baudRate: saved.baud,
  };
}

/** Writes the saved line (atomically, owner-only like the rest of the data folder). */
export async function saveLine(dataDir: string, line: SavedLine): Promise<void> {
  const parsed = savedLineSchema.safeParse(line, { reportInput: true });
  if (!parsed.success) {
    throw unsavable(savedLinePath(dataDir), parsed.error.issues.map(problemText).join('; '));
  }
  const checked = parsed.data;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(savedLinePath(dataDir), `${JSON.stringify(checked, null, 2)}\n`);
}

/** Removes the saved line; true when there was one. `station start` runs the DEMO again. */
export async function forgetSavedLine(dataDir: string): Promise<boolean> {
  const path = savedLinePath(dataDir);
  try {
    await rm(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function invalid(path: string, why: string): StationStartError {
  return new StationStartError(
    'STATION_LINE_INVALID',
    `The saved line in ${path} cannot be used: ${why}. Save it again with \`station line save\`, or remove it with \`station line forget\`.`,
  );
}

/** The same refusal for a line that was never written: nothing is there to save again. */
function unsavable(path: string, why: string): StationStartError {
  return new StationStartError(
    'STATION_LINE_INVALID',
    `The line cannot be saved in ${path}: ${why}. Nothing was written; correct it and save again.`,
  );
}
