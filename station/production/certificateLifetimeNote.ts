/**
 * Says when the CA cuts device certificates short. No certificate outlives the CA that signs it
 * (leafValidity clamps it, and rightly), so a CA that ends in 30 days gives every device a 30-day
 * certificate whatever its profile asks. That was silent: only `ca status` said "expires soon".
 * These texts tell the supervisor at `ca import`, at every line start and in `ca status`. They
 * never refuse: a short-lived CA may be intended (a pilot batch, a test line).
 */
import { leafEndCutByCa } from '../../certs/leaf/leafValidity.js';
import { zonedLocalTime } from '../cli/timeFlags.js';
import { loadProfiles } from '../profiles/loadProfiles.js';
import { DEFAULT_VALIDITY_DAYS } from '../profiles/productProfile.js';
import { readSavedLine } from './savedLine.js';

const DAY_MS = 86_400_000;

/** When a CA may issue: the dates of its whole path (CaStatus, or a CA being imported). */
export interface CaIssuingDates {
  notBefore: Date;
  notAfter: Date;
}

/** The certificate lifetime a profile asks for; no `profile`: the default, no profile known. */
export interface CertificateAsk {
  profile?: string;
  validityDays: number;
}

/**
 * The lifetimes this station will be asked for: those of the X.509 profiles in the saved line's
 * profiles file (every product of it, since `--product` may pick any), or, when there is none
 * or it cannot be read, only the default and why the profiles are not known.
 */
export type KnownAsks =
  | { known: true; profilesFile: string; asks: CertificateAsk[] }
  | { known: false; why: string; asks: [CertificateAsk] };

/** What `dataDir`'s saved line asks for. Never throws: this only decides what to warn about. */
export async function certificateAsksOf(dataDir: string): Promise<KnownAsks> {
  const unknown = (why: string): KnownAsks => ({
    known: false,
    why,
    asks: [{ validityDays: DEFAULT_VALIDITY_DAYS }],
  });
  let profilesFile: string;
  try {
    const saved = readSavedLine(dataDir);
    if (saved === undefined) return unknown('no line is saved in this data folder yet');
    profilesFile = saved.profiles;
  } catch {
    return unknown('the saved line of this data folder cannot be read');
  }
  try {
    const asks = (await loadProfiles(profilesFile))
      .filter((profile) => profile.attestation.mode.startsWith('x509-'))
      .map((profile) => ({
        profile: profile.name,
        validityDays: profile.certificate.validityDays,
      }));
    return { known: true, profilesFile, asks };
  } catch {
    return unknown(`the saved line's profiles file ${profilesFile} cannot be read`);
  }
}

/** The station's local time, as every other command shows it: a supervisor plans by it. */
function when(date: Date): string {
  return zonedLocalTime(date.toISOString());
}

function asksText(ask: CertificateAsk): string {
  return ask.profile === undefined ? 'a profile asks by default' : `profile "${ask.profile}" asks`;
}

function fullDaysHint(validityDays: number, now: Date): string {
  const needed = when(new Date(now.getTime() + validityDays * DAY_MS)).slice(0, 10);
  return `If the devices need their full ${validityDays} days, this station needs a CA valid past ${needed}: ask the CA's owner for one.`;
}

/**
 * For the line start and `ca status`: "certificates issued today end on … with the CA, not in
 * N days as profile X asks", or undefined when they get their full days (or the CA cannot issue
 * at all, which the start refuses and the status shows on its own).
 */
export function certificateCutNote(
  ca: CaIssuingDates,
  ask: CertificateAsk,
  now: Date,
): string | undefined {
  const ends = leafEndCutByCa(now.getTime(), ask.validityDays, ca);
  if (ends === undefined) return undefined;
  return `certificates issued today end on ${when(ends)} with the CA, not in ${ask.validityDays} days as ${asksText(ask)}: no certificate outlives the CA that signs it. ${fullDaysHint(ask.validityDays, now)}`;
}

/**
 * The same, for the UI's notes (Line's `hostNotes`) of a line that signs: worked out again at each
 * status, because a line runs for days and a CA that outlasts the profile's certificates today
 * may not next month. A sentence of its own there, so it starts with a capital.
 */
export function certificateCutNotes(ca: () => CaIssuingDates, ask: CertificateAsk): () => string[] {
  return () => {
    const cut = certificateCutNote(ca(), ask, new Date());
    return cut === undefined ? [] : [`${cut.charAt(0).toUpperCase()}${cut.slice(1)}`];
  };
}

/**
 * For `ca import`: the CA ends before the longest lifetime asked for (or the default, when the
 * profiles are not known yet, which is usual: the CA comes first in the setup), so certificates
 * it issues end with it. Undefined when the CA outlasts every lifetime asked for.
 */
export function importCutWarning(
  ca: CaIssuingDates,
  known: KnownAsks,
  now: Date,
): string | undefined {
  const longest = known.asks.reduce<CertificateAsk | undefined>(
    (most, ask) => (most === undefined || ask.validityDays > most.validityDays ? ask : most),
    undefined,
  );
  if (longest === undefined || !leafEndCutByCa(now.getTime(), longest.validityDays, ca)) {
    return undefined;
  }
  const days = longest.validityDays;
  const asked = known.known
    ? `the ${days} days profile "${longest.profile ?? ''}" asks for its device certificates (the longest in ${known.profilesFile})`
    : `the ${days} days device certificates get by default (${known.why}, so the profiles are not known; a profile may ask for more or fewer with certificate.validityDays)`;
  return `this CA ends on ${when(ca.notAfter)}, before ${asked}. Certificates issued with it end with the CA, on ${when(ca.notAfter)}, not ${days} days after they are issued. The import goes on, as a short-lived CA may be intended. ${fullDaysHint(days, now)}`;
}
