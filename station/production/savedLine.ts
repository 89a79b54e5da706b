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
import type { LineSelection } from './productionStation.js';

/** The file, in the station's data folder. */
export const SAVED_LINE_FILE = 'line.json';

const savedLineSchema = z
  .object({
    version: z.literal(1),
    profiles: z.string().refine(isAbsolute, 'expected an absolute path'),
    product: z.string().min(1).optional(),
    devices: z.array(z.string().min(1)).refine((d) => new Set(d).size === d.length, {
      error: 'a device is listed twice',
    }),
    discover: z.boolean(),
    baud: z.number().int().min(300).max(10_000_000),
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
  const parsed = savedLineSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(file)'}: ${issue.message}`,
    );
    throw invalid(path, problems.join('; '));
  }
  return parsed.data;
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
  const checked = savedLineSchema.parse(line);
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
