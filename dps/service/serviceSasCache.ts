import type { DpsConnectionString } from '../auth/connectionString.js';
import { serviceSasToken } from '../auth/sas.js';

/** How long a fresh token lives: the Node SDK's choice, and well inside DPS's limits. */
export const SERVICE_SAS_LIFETIME_S = 60 * 60;
/**
 * A token is used for at most this long, a small part of its life: whatever clock it was signed
 * by, DPS then still sees it current for the whole reuse as long as the two clocks differ by less
 * than the lifetime minus this. The Azure SDKs re-sign for every request; this keeps the HMAC
 * and the header stable for a few minutes of calls and nothing more.
 */
export const SERVICE_SAS_REUSE_S = 5 * 60;
/**
 * The signing clock may step back a little when DPS's time is learned afresh (its Date header has
 * whole seconds); a token signed more than this "in the future" was signed by a clock that ran
 * ahead, lives longer than it should, and is replaced.
 */
const BACKWARD_SLACK_S = 60;

/**
 * The service API's SAS token, signed for an hour and reused for at most five minutes. `nowMs` is
 * the clock tokens are signed and judged by: the client passes its best knowledge of DPS's clock
 * (the station's clock corrected by DPS's Date header once an answer came), because DPS judges
 * `se` by its own clock, not the station's.
 */
export class ServiceSasCache {
  #token: string | undefined;
  #issuedAt = 0;
  #expiresAt = 0;

  constructor(
    private readonly connection: DpsConnectionString,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** The token to send now. */
  token(): string {
    const now = Math.floor(this.nowMs() / 1000);
    if (
      this.#token === undefined ||
      // Replaced long before it lapses: the reuse is a small part of the lifetime.
      now >= this.#issuedAt + SERVICE_SAS_REUSE_S ||
      now < this.#issuedAt - BACKWARD_SLACK_S
    ) {
      this.#issuedAt = now;
      this.#expiresAt = now + SERVICE_SAS_LIFETIME_S;
      this.#token = serviceSasToken(
        this.connection.hostName,
        this.connection.sharedAccessKeyName,
        this.connection.sharedAccessKey,
        this.#expiresAt,
      );
    }
    return this.#token;
  }

  /** The current token's `se` in ms since the epoch (DPS judges it by its clock); 0 if none. */
  get expiresAtMs(): number {
    return this.#expiresAt * 1000;
  }

  /** The current token, if any: for cutting it out of error text. */
  get current(): string | undefined {
    return this.#token;
  }
}
