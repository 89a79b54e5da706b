/**
 * The notes every UI shows above the slots: what the technician and the supervisor should know
 * about the line as a whole. Composed afresh at each status, so a note is as true as the moment
 * it is shown, on a line that runs for days.
 */
import type { LineOptions } from './lineOptions.js';
import { clockNote } from './clockNote.js';
import { tpmTrustNote } from './tpmTrustNote.js';

const DEMO_NOTE =
  'DEMO line: simulated devices, a DEMO CA, and a local DPS emulator as the cloud. Nothing provisioned here is a real device identity.';

/** What the line found by itself, as of this status. */
export interface LineFindings {
  discovery: string | undefined;
  outbox: string | undefined;
  interrupted: string | undefined;
  missing: string | undefined;
}

export function lineNotes(
  options: Pick<LineOptions, 'demo' | 'profile' | 'ekTrust' | 'dpsClockOffsetMs' | 'hostNotes'>,
  found: LineFindings,
): string[] {
  const notes = [
    options.demo ? DEMO_NOTE : undefined,
    tpmTrustNote(options.profile, options.ekTrust),
    ...(options.hostNotes?.() ?? []),
    found.discovery,
    found.outbox,
    clockNote(options.dpsClockOffsetMs?.()),
    found.interrupted,
    found.missing,
  ];
  return notes.filter((note): note is string => note !== undefined && note !== '');
}
