import { UsageError } from './usageError.js';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A `--since` value: a span back from `now` (30m, 8h, 2d) or a local date (midnight) or date
 * and time. A supervisor reads and types the floor's local time, never UTC.
 */
export function sinceFlag(text: string, now: Date): Date {
  const span = /^(\d{1,6})([mhd])$/.exec(text);
  if (span) return new Date(now.getTime() - Number(span[1]) * UNIT_MS[span[2] as 'm' | 'h' | 'd']);
  // A bare date is UTC midnight to Date.parse, but a date with a time is local: make both local.
  const local = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00` : text;
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(local) ? new Date(local) : undefined;
  // Date rolls an impossible date over (31 February is 3 March): only one that reads back as
  // typed is taken, so a typo never shifts the window silently.
  if (at === undefined || Number.isNaN(at.getTime()) || !realCalendarTime(local)) {
    throw new UsageError(
      `--since must be a span (30m, 8h, 2d) or a local date or date and time (2026-12-05, 2026-12-05T06:00), not "${text}"`,
    );
  }
  return at;
}

/**
 * Whether `typed` (YYYY-MM-DDTHH:MM[:SS]) names a real calendar date and time. Checked on the
 * calendar, not the local clock: a local midnight that a daylight-saving change skips is still a
 * valid day to ask from (Date moves it to the first minute that exists).
 */
function realCalendarTime(typed: string): boolean {
  const [y, mo, d, h, mi, sec = 0] = typed.split(/[-T:]/).map(Number) as number[];
  const calendar = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, sec));
  return (
    calendar.getUTCFullYear() === y &&
    calendar.getUTCMonth() === mo! - 1 &&
    calendar.getUTCDate() === d &&
    calendar.getUTCHours() === h &&
    calendar.getUTCMinutes() === mi &&
    calendar.getUTCSeconds() === sec
  );
}

/** An ISO 8601 time as the station's local `YYYY-MM-DD HH:MM:SS`. */
function localTime(iso: string): string {
  const at = new Date(iso);
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ` +
    `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`
  );
}

/**
 * An ISO 8601 time as the station's local `YYYY-MM-DD HH:MM:SS +01:00`: the time of day the
 * floor reads and types (`--since` is local), with the UTC offset in force at that moment, so a
 * line reads the same to a supervisor in another zone, across a daylight-saving change, and set
 * beside station.log, which is UTC (`Z`). For the records a supervisor answers "when" from.
 */
export function zonedLocalTime(iso: string): string {
  const offset = -new Date(iso).getTimezoneOffset();
  const two = (n: number): string => String(n).padStart(2, '0');
  const sign = offset < 0 ? '-' : '+';
  const minutes = Math.abs(offset);
  return `${localTime(iso)} ${sign}${two(Math.floor(minutes / 60))}:${two(minutes % 60)}`;
}
