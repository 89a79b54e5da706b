import type Database from 'better-sqlite3';

/** Who did something: the station itself, or a named operator or supervisor. */
export type AuditActor = 'station' | `operator:${string}` | `supervisor:${string}`;

/** One entry of the append-only audit trail. */
export interface AuditEvent {
  id: number;
  /** ISO 8601. */
  at: string;
  actor: AuditActor;
  /** Dotted event name, for example `device.provisioned` or `run.failed`. */
  kind: string;
  /** What the event is about: a registration ID, or `run:<id>` when there is none yet. */
  subject: string;
  detail: Record<string, unknown>;
}

interface AuditRow {
  id: number;
  at: string;
  actor: AuditActor;
  kind: string;
  subject: string;
  detail: string;
}

/**
 * The audit trail in the station database. The table refuses UPDATE and DELETE by trigger; this
 * class only appends and reads. Appends join whatever transaction the caller has open, which is
 * how an event is written together with the change it reports.
 */
export class AuditLog {
  private readonly insert: Database.Statement;
  private readonly latest: Database.Statement;
  private readonly latestOfKind: Database.Statement;
  private readonly kindsHeld: Database.Statement;

  constructor(db: Database.Database) {
    this.insert = db.prepare(
      `INSERT INTO audit_events (at, actor, kind, subject, detail) VALUES (?, ?, ?, ?, ?)`,
    );
    const columns = 'id, at, actor, kind, subject, detail';
    this.latest = db.prepare(`SELECT ${columns} FROM audit_events ORDER BY id DESC LIMIT ?`);
    this.latestOfKind = db.prepare(
      `SELECT ${columns} FROM audit_events WHERE kind = ? ORDER BY id DESC LIMIT ?`,
    );
    // Read off the index on (kind, id), not the rows.
    this.kindsHeld = db.prepare(`SELECT DISTINCT kind FROM audit_events ORDER BY kind`).pluck();
  }

  /** The kinds of event the trail holds, alphabetically. */
  kinds(): string[] {
    return this.kindsHeld.all() as string[];
  }

  /** Appends one event and returns its id. */
  append(event: {
    at: Date;
    actor: AuditActor;
    kind: string;
    subject: string;
    detail?: Record<string, unknown>;
  }): number {
    const result = this.insert.run(
      event.at.toISOString(),
      event.actor,
      event.kind,
      event.subject,
      JSON.stringify(event.detail ?? {}),
    );
    return Number(result.lastInsertRowid);
  }

  /** The latest events, newest first, optionally of one kind. */
  list(kind?: string, limit = 100): AuditEvent[] {
    const rows = (
      kind === undefined ? this.latest.all(limit) : this.latestOfKind.all(kind, limit)
    ) as AuditRow[];
    return rows.map((row) => ({
      ...row,
      detail: JSON.parse(row.detail) as Record<string, unknown>,
    }));
  }
}
