/**
 * Which error codes the station API passes on to a client as they are. The station's codes are
 * PART_WHAT (STORE_LOCKED, PROFILE_INVALID) and each has operator text; Node's are ENOENT-like or
 * ERR_-prefixed and say nothing an operator can act on without the message and path, so they
 * travel in an error's detail under a station code instead.
 */
export function isStationCode(code: string): boolean {
  return /^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/.test(code) && !FOREIGN_CODE.test(code);
}

/**
 * Codes of the same shape that are not the station's: Node's (ERR_…, ABORT_ERR), undici's
 * (UND_ERR_…) and SQLite's (SQLITE_…; the store turns those it expects into STORE_ codes).
 */
const FOREIGN_CODE = /^(?:ERR_|UND_ERR_|SQLITE_)|^ABORT_ERR$/;

/** The code an error carries, when it carries one as a string. */
export function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
