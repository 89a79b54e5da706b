import type { DpsConnectionString } from '../auth/connectionString.js';
import { serviceSasToken } from '../auth/sas.js';

/** How long a fresh token lives: the Node SDK's choice, and well inside DPS's limits. */
export const SERVICE_SAS_LIFETIME_S = 60 * 60;
/** A token is replaced this long before it expires, so no request carries one about to lapse. */
export const SERVICE_SAS_RENEW_MARGIN_S = 5 * 60;

/**
 * The service API's SAS token, signed for an hour and reused until five minutes before expiry:
 * one HMAC per ~55 minutes instead of one per request, and a stable header while it lives.
 */
export class ServiceSasCache {
  #token: string | undefined;
  #expiresAt = 0;

  constructor(
    private readonly connection: DpsConnectionString,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** The token to send now. */
  token(): string {
    const now = Math.floor(this.nowMs() / 1000);
    if (this.#token === undefined || now >= this.#expiresAt - SERVICE_SAS_RENEW_MARGIN_S) {
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

  /** When the current token expires (ms since the epoch, by this station's clock); 0 if none. */
  get expiresAtMs(): number {
    return this.#expiresAt * 1000;
  }

  /** The current token, if any: for cutting it out of error text. */
  get current(): string | undefined {
    return this.#token;
  }
}
