import type Database from 'better-sqlite3';
import type { CodedError, PassedRunRecord } from '../line/lineTypes.js';

/** One provisioning run as the UI and the CLI list it. */
export interface RunSummary {
  id: number;
  port: string;
  profile: string;
  state: 'running' | 'pass' | 'fail' | 'cancelled';
  serialNumber: string | null;
  model: string | null;
  registrationId: string | null;
  certificateSerial: string | null;
  error: CodedError | null;
  steps: PassedRunRecord['steps'];
  /** ISO 8601. */
  startedAt: string;
  finishedAt: string | null;
}

type RunRow = Omit<RunSummary, 'error' | 'steps'> & {
  errorCode: string | null;
  errorMessage: string | null;
  errorDetail: string | null;
  steps: string;
};

/** Read side of the run history. */
export class RunHistory {
  private readonly latest: Database.Statement;

  constructor(db: Database.Database) {
    this.latest = db.prepare(`SELECT r.id, r.port, r.profile, r.state,
        d.serial_number AS serialNumber, d.model, r.registration_id AS registrationId,
        r.certificate_serial AS certificateSerial, r.error_code AS errorCode,
        r.error_message AS errorMessage, r.error_detail AS errorDetail, r.steps,
        r.started_at AS startedAt, r.finished_at AS finishedAt
      FROM runs r LEFT JOIN devices d ON d.id = r.device_id
      ORDER BY r.id DESC LIMIT ?`);
  }

  /** The latest runs, newest first. */
  recent(limit: number): RunSummary[] {
    return (this.latest.all(limit) as RunRow[]).map(
      ({ errorCode, errorMessage, errorDetail, steps, ...run }) => ({
        ...run,
        error: errorCode === null ? null : codedError(errorCode, errorMessage, errorDetail),
        steps: JSON.parse(steps) as RunSummary['steps'],
      }),
    );
  }
}

function codedError(code: string, message: string | null, detail: string | null): CodedError {
  return detail === null
    ? { code, message: message ?? '' }
    : { code, message: message ?? '', detail };
}
