import type Database from 'better-sqlite3';
import type { AttestationMode, OutboxCounts } from '../line/lineTypes.js';
import { toCsv } from './outboxCsv.js';

/** Where an enrollment is on its way to DPS. `superseded` rows are history, never synced. */
export type EnrollmentStatus = keyof OutboxCounts | 'superseded';

/** Every status, in the order an enrollment usually passes through them. */
export const ENROLLMENT_STATUSES: readonly EnrollmentStatus[] = [
  'pending',
  'syncing',
  'synced',
  'failed',
  'conflict',
  'superseded',
];

/** Which outbox rows to list: one status or all, in id order, from after `afterId` (paging). */
export interface OutboxFilter {
  status?: EnrollmentStatus;
  /** Rows per page; listing defaults to 100, export to every row. */
  limit?: number;
  afterId?: number;
}

/** One enrollment of the outbox as the UI and the CLI see it. Never carries the sealed secret. */
export interface OutboxEntry {
  id: number;
  registrationId: string;
  serialNumber: string;
  model: string;
  runId: number;
  attestation: AttestationMode;
  status: EnrollmentStatus;
  attempts: number;
  lastError: string | null;
  etag: string | null;
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
  supersededBy: number | null;
  /** Whether a sealed symmetric key travels with the enrollment (it is not shown). */
  hasSealedSecret: boolean;
  /** The DPS individual enrollment body (no secrets). */
  enrollment: Record<string, unknown>;
  /** The sync worker's SYNC_* code for `lastError` (migration 003). */
  lastErrorCode: string | null;
  /** When a pending row is retried (ISO 8601; null = due now). */
  nextAttemptAt: string | null;
  /** When DPS confirmed the enrollment (ISO 8601). */
  syncedAt: string | null;
  /** On conflict: what DPS holds for this registration ID (secrets removed), to compare. */
  dpsRecord: Record<string, unknown> | null;
  /**
   * A superseded row left in DPS under a registration ID its device no longer uses: `due` to
   * be disabled there, or how that ended (migration 017); null when there is nothing to retire.
   */
  retirement: 'due' | 'disabled' | 'absent' | 'not-ours' | null;
  /** When the retirement settled (ISO 8601). */
  retiredAt: string | null;
  /** While due: why DPS did not settle it at its last try, if it was tried. */
  retireNote: string | null;
  /**
   * A row DPS may hold whose certificate a supervisor revoked (`station ca revoke`, migration
   * 022): `due` to be disabled there, or how that ended; null when nothing was revoked. Its
   * status stays what it was (a synced row stays `synced`): this says what became of it in DPS.
   */
  revocation: 'due' | 'disabled' | 'absent' | 'not-ours' | null;
  /** When the revocation's disable settled (ISO 8601). */
  revocationSettledAt: string | null;
  /** While due: why DPS did not settle it at its last try, if it was tried. */
  revocationNote: string | null;
}

type OutboxRow = Omit<OutboxEntry, 'hasSealedSecret' | 'enrollment' | 'dpsRecord'> & {
  hasSealedSecret: 0 | 1;
  body: string;
  dpsRecord: string | null;
};

const CSV_HEADER = [
  'id',
  'registration_id',
  'serial_number',
  'model',
  'run_id',
  'attestation',
  'status',
  'attempts',
  'last_error',
  'etag',
  'created_at',
  'updated_at',
  'superseded_by',
  'has_sealed_secret',
  'enrollment',
  'last_error_code',
  'next_attempt_at',
  'synced_at',
  'dps_record',
  'retirement',
  'retired_at',
  'retire_note',
  'revocation',
  'revocation_settled_at',
  'revocation_note',
] as const;

/**
 * The retirement columns (migration 017), or NULLs in a store of an older station, which
 * `bundle` commands read as it is, without migrating it (bundleWorkList.ts).
 */
function retirementColumns(db: Database.Database): string {
  const has = db
    .prepare(`SELECT 1 FROM pragma_table_info('enrollments') WHERE name = 'retirement'`)
    .get();
  return has
    ? 'e.retirement, e.retired_at AS retiredAt, e.retire_note AS retireNote'
    : 'NULL AS retirement, NULL AS retiredAt, NULL AS retireNote';
}

/** The revocation's disable (migration 022), or NULLs in a store of an older station. */
function revocationColumns(db: Database.Database): { columns: string; join: string } {
  const has = db
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'revocation_disables'`)
    .get();
  return has
    ? {
        columns: `r.state AS revocation, r.settled_at AS revocationSettledAt,
          r.note AS revocationNote`,
        join: 'LEFT JOIN revocation_disables r ON r.enrollment_id = e.id',
      }
    : {
        columns: 'NULL AS revocation, NULL AS revocationSettledAt, NULL AS revocationNote',
        join: '',
      };
}

// sealed_secret is only tested for presence here; no listing query selects it.
function selectSql(db: Database.Database): string {
  const revocation = revocationColumns(db);
  return `SELECT e.id, e.registration_id AS registrationId, d.serial_number AS serialNumber,
    d.model, e.run_id AS runId, e.attestation, e.status, e.attempts, e.last_error AS lastError,
    e.etag, e.created_at AS createdAt, e.updated_at AS updatedAt, e.superseded_by AS supersededBy,
    e.sealed_secret IS NOT NULL AS hasSealedSecret, e.body, e.last_error_code AS lastErrorCode,
    e.next_attempt_at AS nextAttemptAt, e.synced_at AS syncedAt, e.dps_record AS dpsRecord,
    ${retirementColumns(db)}, ${revocation.columns}
  FROM enrollments e JOIN devices d ON d.id = e.device_id ${revocation.join}`;
}

/** Read side of the enrollment outbox: counts, pages and exports. */
export class OutboxListing {
  private readonly countByStatus: Database.Statement;
  private readonly pageAll: Database.Statement;
  private readonly pageOfStatus: Database.Statement;

  constructor(db: Database.Database) {
    // Kept by triggers (migration 004): six rows, however long the outbox's history grows.
    this.countByStatus = db.prepare(
      `SELECT status, n FROM outbox_counts WHERE status != 'superseded'`,
    );
    const SELECT = selectSql(db);
    this.pageAll = db.prepare(`${SELECT} WHERE e.id > ? ORDER BY e.id LIMIT ?`);
    this.pageOfStatus = db.prepare(
      `${SELECT} WHERE e.status = ? AND e.id > ? ORDER BY e.id LIMIT ?`,
    );
  }

  /** Enrollments per status, superseded ones left out (they are history, not work). */
  counts(): OutboxCounts {
    const counts: OutboxCounts = { pending: 0, syncing: 0, synced: 0, failed: 0, conflict: 0 };
    for (const row of this.countByStatus.all() as { status: keyof OutboxCounts; n: number }[]) {
      counts[row.status] = row.n;
    }
    return counts;
  }

  /** A page of the outbox in id order (oldest first, as the sync worker drains it). */
  list(filter: OutboxFilter = {}): OutboxEntry[] {
    return this.page(filter, filter.limit ?? 100);
  }

  /**
   * The outbox as CSV (header row, RFC 4180) or a JSON array, with how many enrollments it holds
   * (`station queue export` says so).
   */
  exportCounted(
    format: 'csv' | 'json',
    filter: OutboxFilter = {},
  ): { text: string; enrollments: number } {
    // SQLite reads a negative LIMIT as "no limit".
    const entries = this.page(filter, filter.limit ?? -1);
    return { text: this.render(format, entries), enrollments: entries.length };
  }

  private render(format: 'csv' | 'json', entries: OutboxEntry[]): string {
    if (format === 'json') return `${JSON.stringify(entries, null, 2)}\n`;
    return toCsv(
      CSV_HEADER,
      entries.map((e) => [
        e.id,
        e.registrationId,
        e.serialNumber,
        e.model,
        e.runId,
        e.attestation,
        e.status,
        e.attempts,
        e.lastError,
        e.etag,
        e.createdAt,
        e.updatedAt,
        e.supersededBy,
        e.hasSealedSecret,
        JSON.stringify(e.enrollment),
        e.lastErrorCode,
        e.nextAttemptAt,
        e.syncedAt,
        e.dpsRecord === null ? null : JSON.stringify(e.dpsRecord),
        e.retirement,
        e.retiredAt,
        e.retireNote,
        e.revocation,
        e.revocationSettledAt,
        e.revocationNote,
      ]),
    );
  }

  private page(filter: OutboxFilter, limit: number): OutboxEntry[] {
    const after = filter.afterId ?? 0;
    const rows = (
      filter.status === undefined
        ? this.pageAll.all(after, limit)
        : this.pageOfStatus.all(filter.status, after, limit)
    ) as OutboxRow[];
    return rows.map(({ body, hasSealedSecret, dpsRecord, ...row }) => ({
      ...row,
      hasSealedSecret: hasSealedSecret === 1,
      enrollment: JSON.parse(body) as Record<string, unknown>,
      dpsRecord: dpsRecord === null ? null : (JSON.parse(dpsRecord) as Record<string, unknown>),
    }));
  }
}
