/**
 * What a station clock that differs from DPS's means on the floor. The line learns DPS's time
 * from the answers of the sync (their Date header), so it can say so while the line runs instead
 * of leaving it to be found from its effects:
 * - ahead: a leaf's validity starts a minute before the station's "now" (leafValidity.ts), so a
 *   clock ahead by more than that issues certificates that are not valid yet, and a device that
 *   registers with DPS right after provisioning (an end-of-line test) is refused until then;
 * - behind: the DPS client signs its SAS tokens (an hour's life) by DPS's clock once an answer
 *   told it DPS's time, and signs its first call again by it when DPS refused it, so the sync
 *   keeps working however far behind; what remains wrong is every time the station records.
 */

/** Beyond this the difference is the clock's, not the Date header's whole seconds or latency. */
export const CLOCK_NOTE_MS = 2 * 60_000;

/** The note for `offsetMs` (DPS's clock minus the station's), or undefined when it is small. */
export function clockNote(offsetMs: number | undefined): string | undefined {
  if (offsetMs === undefined || Math.abs(offsetMs) < CLOCK_NOTE_MS) return undefined;
  const minutes = Math.round(Math.abs(offsetMs) / 60_000);
  const amount = minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
  const effect =
    offsetMs < 0
      ? 'Certificates it issues are not valid until DPS reaches that time, so devices may fail to register with DPS until then.'
      : "Sync keeps working (it signs by DPS's clock), but every time this station records (runs, audit, certificates issued) is off by as much.";
  return `This station's clock is ${amount} ${offsetMs < 0 ? 'ahead of' : 'behind'} DPS's. ${effect} A supervisor must set the station's date and time.`;
}
