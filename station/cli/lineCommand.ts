import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseStationArgs } from './stationArgs.js';
import { checkLineSetup, chooseProfile } from '../production/productionStation.js';
import { loadProfiles } from '../profiles/loadProfiles.js';
import {
  forgetSavedLine,
  readSavedLine,
  saveLine,
  savedLinePath,
  type SavedLine,
} from '../production/savedLine.js';
import { absentLocalPorts } from '../line/missingPortsNote.js';
import { profileFingerprint } from '../line/profileFingerprint.js';
import type { AuditActor } from '../store/auditLog.js';
import { auditedChange } from '../store/auditedChange.js';
import { resolveDataDir, stationPaths } from './dataDir.js';
import { LINE_SETUP_USAGE, lineParseOptions, lineSelection } from './lineOptions.js';
import { supervisorActor } from './supervisorName.js';
import { UsageError } from './usageError.js';

export const LINE_USAGE = `  line save  the line \`station start\` (what \`npm start\` runs) and \`station serve\` run when
             none is given: checks the profile and the CA first, asks for no secret
${LINE_SETUP_USAGE}
          --manual          start runs only when the operator asks (default: auto, every device)
          --by NAME         who saves it, for the audit trail (default: this OS user's name)
  line show                                      the saved line of --data-dir DIR
  line forget [--by NAME]                        remove it: \`station start\` runs the DEMO again
          save and forget go into the audit trail (line.saved, line.forgotten), making the
          station database for it if none is there yet`;

/** `station line save|show|forget`: the line this station runs by default. */
export async function line(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'save') return save(rest);
  // show and forget take the folder (and forget who): `forget --device X` must not read as
  // forgetting one port.
  const { values } = parseStationArgs({
    args: rest,
    options: { 'data-dir': lineParseOptions['data-dir'], by: { type: 'string' } },
  });
  const dataDir = resolveDataDir(values['data-dir']);
  if (sub === 'show' && values.by !== undefined) {
    throw new UsageError('line show takes no --by: it changes nothing');
  }
  if (sub === 'show') {
    const saved = readSavedLine(dataDir);
    if (!saved) {
      console.log(`No line is saved in ${dataDir}: \`station start\` runs the DEMO line.`);
      return 0;
    }
    console.log(`${savedLinePath(dataDir)}: ${describe(saved, saved.product)}.`);
    console.log(`  profiles  ${saved.profiles}`);
    console.log(`  product   ${await productLine(saved)}`);
    return 0;
  }
  if (sub === 'forget') return forget(dataDir, supervisorActor(values.by));
  console.error(`station line: unknown subcommand "${sub ?? ''}"\n${LINE_USAGE}`);
  return 2;
}

/** `line save`: checks the line's setup, then writes it. */
async function save(args: string[]): Promise<number> {
  const { values } = parseStationArgs({
    args,
    options: {
      ...lineParseOptions,
      manual: { type: 'boolean', default: false },
      by: { type: 'string' },
    },
  });
  const dataDir = resolveDataDir(values['data-dir']);
  // An empty --by is refused before anything is checked or written.
  const actor = supervisorActor(values.by);
  const selection = lineSelection(values);
  if (typeof selection === 'string') {
    console.error(`station line save: ${selection}`);
    return 2;
  }
  const profile = await checkLineSetup(selection);
  const saved: SavedLine = {
    version: 1,
    profiles: resolve(selection.profilesFile),
    ...(selection.product !== undefined && { product: selection.product }),
    devices: selection.ports,
    discover: selection.discover,
    baud: selection.baudRate,
    mode: values.manual ? 'manual' : 'auto',
  };
  const file = savedLinePath(dataDir);
  const replaced = existsSync(file);
  // What a start will run is a supervisor's decision: recorded as made, the file by its path.
  await auditedChange(
    stationPaths(dataDir).database,
    () => saveLine(dataDir, saved),
    () => ({
      actor,
      kind: 'line.saved',
      subject: 'line',
      detail: {
        ...lineFacts(saved),
        product: profile.name,
        profileFingerprint: profileFingerprint(profile),
        file,
        replaced,
      },
    }),
  );
  console.log(`Saved in ${savedLinePath(dataDir)}: ${describe(saved, profile.name)}.`);
  console.log(
    '`station start` (what `npm start` runs) and `station serve` now run this line; `station line forget` brings back the DEMO.',
  );
  // Saved all the same: an adapter may be plugged in after the start. A mistyped path would
  // otherwise wait in silence, as an empty socket does.
  for (const port of absentLocalPorts(saved.devices)) {
    console.log(
      `note: ${port} is not there now; its slot will wait for it (station ports lists the ports this machine has)`,
    );
  }
  return 0;
}

/**
 * `line forget`: removes the saved line and records it. A folder with nothing saved is left as
 * it is: no database is made there for an event that did not happen.
 */
async function forget(dataDir: string, actor: AuditActor): Promise<number> {
  const file = savedLinePath(dataDir);
  if (!existsSync(file)) {
    console.log(`No line was saved in ${dataDir}.`);
    return 0;
  }
  // What was forgotten, as far as the file still reads: one that no longer does (hand-edited)
  // may be forgotten all the same, and that is what the event then says.
  let before: SavedLine | undefined;
  try {
    before = readSavedLine(dataDir);
  } catch {
    before = undefined;
  }
  await auditedChange(
    stationPaths(dataDir).database,
    () => forgetSavedLine(dataDir),
    () => ({
      actor,
      kind: 'line.forgotten',
      subject: 'line',
      detail: before
        ? { ...lineFacts(before), ...(before.product && { product: before.product }), file }
        : { file, unreadable: true },
    }),
  );
  console.log(`Removed ${file}: \`station start\` runs the DEMO line again.`);
  return 0;
}

/** The settings of a saved line as its audit events record them: no secret is among them. */
function lineFacts(saved: SavedLine): Record<string, unknown> {
  return {
    profilesFile: saved.profiles,
    ports: saved.devices,
    discover: saved.discover,
    baud: saved.baud,
    mode: saved.mode,
  };
}

function describe(saved: SavedLine, product: string | undefined): string {
  const ports = [
    ...saved.devices,
    ...(saved.discover ? ['every serial port that appears'] : []),
  ].join(', ');
  const what = product === undefined ? 'the one product of its profiles file' : `"${product}"`;
  return `${what} on ${ports}, ${saved.baud} baud, ${saved.mode} mode`;
}

/**
 * The product the saved line runs, read from its profiles file now: its name and what every
 * device is given, or why a start would refuse the file (it may have changed since `line save`).
 */
async function productLine(saved: SavedLine): Promise<string> {
  try {
    const profile = chooseProfile(await loadProfiles(saved.profiles), saved.product);
    const { globalEndpoint, idScope } = profile.dps;
    return `"${profile.name}": ${profile.attestation.mode}, DPS ${globalEndpoint}, scope ${idScope}`;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why = err instanceof Error ? err.message : String(err);
    return `the line would not start with it now: ${why}${typeof code === 'string' ? ` (${code})` : ''}`;
  }
}
