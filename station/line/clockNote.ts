/**
 * What a station clock that differs from DPS's means on the floor. The line learns DPS's time
 * from the answers of the sync (their Date header), so it can say so while the line runs instead
 * of leaving it to be found from its effects:
 * - ahead: a leaf's validity starts a minute before the station's "now" (leafValidity.ts), so a
 *   clock ahead by more than that issues certificates that are not valid yet, and a device that
 *   registers with DPS right after provisioning (an end-of-line test) is refused until then;
 * - behind: the station's SAS tokens live an hour, so at about an hour behind DPS refuses its
 *   sign-in (DPS_CLOCK_WRONG); a note comes well before that.
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
      : 'DPS refuses its sign-in once it is an hour behind, and then nothing syncs.';
  return `This station's clock is ${amount} ${offsetMs < 0 ? 'ahead of' : 'behind'} DPS's. ${effect} A supervisor must set the station's date and time.`;
}
