/**
 * Times as the UI shows them: HH:MM:SS (24-hour) in the workstation's time zone. Every time the
 * UI shows goes through here, so that one screen never mixes "3:28:26 PM" with "15:27:38"
 * (toLocaleTimeString follows the browser's locale, the rest of the UI does not).
 */

const two = (n: number): string => String(n).padStart(2, '0');
const dayOf = (at: Date): string =>
  `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}`;
const timeOf = (at: Date): string =>
  [at.getHours(), at.getMinutes(), at.getSeconds()].map(two).join(':');

/**
 * The time, with the date in front for a time of another day than `now`: a station left running
 * overnight lists yesterday's failures beside today's. Text that is no time is shown as it is.
 */
export function clockTime(iso: string, now: Date): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return dayOf(at) === dayOf(now) ? timeOf(at) : `${dayOf(at)} ${timeOf(at)}`;
}

/** The date and the time, always (a tooltip's full record). */
export function dateTime(iso: string): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : `${dayOf(at)} ${timeOf(at)}`;
}
