/**
 * A station clock that runs behind signs SAS tokens that have already expired by DPS's clock, and
 * DPS answers 401 exactly as for a wrong key. Factory PCs off the network drift, and a supervisor
 * told "credentials refused" pastes the connection string again, which cannot help. DPS's Date
 * header says what time DPS thinks it is, so the client can tell the two causes apart.
 */

/** DPS's clock at the answer, from its Date header (whole seconds); undefined without one. */
export function serverTimeMs(
  headers: Record<string, string | string[] | undefined>,
): number | undefined {
  const date = headers['date'];
  if (typeof date !== 'string') return undefined;
  const ms = Date.parse(date);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Whether a token that expires at `expiresAtMs` was already expired by DPS's clock. The Date
 * header has whole seconds, so a second of slack keeps a token that lapsed in transit from
 * being blamed on the clock.
 */
export function expiredByServerClock(expiresAtMs: number, serverMs: number): boolean {
  return serverMs >= expiresAtMs + 1000;
}

/** "2 h 5 min behind" / "12 min ahead of": how the station's clock stands against DPS's. */
export function describeClockOffset(stationMs: number, serverMs: number): string {
  const minutes = Math.round(Math.abs(serverMs - stationMs) / 60_000);
  const amount =
    minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  return `${amount} ${serverMs > stationMs ? 'behind' : 'ahead of'}`;
}
