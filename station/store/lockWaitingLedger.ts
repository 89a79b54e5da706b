import type {
  IssuanceLedger,
  IssuanceRecord,
  IssuedCertificateSummary,
} from '../../certs/caSigner.js';
import type { CertificateLedger } from './certificateLedger.js';
import { DEFAULT_STORE_LOCK_WAIT, waitOutStoreLock, type StoreLockWait } from './storeLockWait.js';

/**
 * The CA's ledger as a running line uses it: a certificate issued while another program holds
 * the station database waits for the lock on a timer (storeLockWait.ts), so the other slots go
 * on talking to their devices meanwhile. The certificate leaves the CA only once it is recorded.
 */
export class LockWaitingLedger implements IssuanceLedger {
  constructor(
    private readonly ledger: CertificateLedger,
    private readonly wait: StoreLockWait = DEFAULT_STORE_LOCK_WAIT,
  ) {}

  /** `options.signal` ends the wait: the run the certificate is for was cancelled or stopped. */
  record(entry: IssuanceRecord, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return waitOutStoreLock(() => this.ledger.record(entry), this.wait, options.signal);
  }

  list(query?: { registrationId?: string; limit?: number }): IssuedCertificateSummary[] {
    return this.ledger.list(query);
  }

  revoke(serialNumber: string, reason: string): Promise<boolean> {
    return waitOutStoreLock(() => this.ledger.revoke(serialNumber, reason), this.wait);
  }
}
