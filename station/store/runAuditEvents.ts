import type { PassedRunRecord } from '../line/lineTypes.js';
import type { FailedRunOutcome, RunDpsRecord } from '../line/runRecorder.js';
import type { AuditActor } from './auditLog.js';

/** An event of a run's end, as ProvisioningStore appends it inside the run's transaction. */
interface RunEndEvent {
  actor: AuditActor;
  kind: 'device.provisioned' | 'run.failed';
  subject: string;
  detail: Record<string, unknown>;
}

/**
 * Who a run's end is recorded as done by: the operator it names (`station provision` records
 * --by, else the OS user, as the run opens), else the station, which ran it (auto mode, a
 * Provision press in the UI, whose operator has no name here).
 */
export function runActor(operatorName: string | null): AuditActor {
  return operatorName === null ? 'station' : `operator:${operatorName}`;
}

/** `device.provisioned`: what the device was given, and where its enrollment waits. */
export function provisionedEvent(
  record: PassedRunRecord,
  written: Record<keyof RunDpsRecord, string | null> & { operatorName: string | null },
  ids: { enrollmentId: number; supersededEnrollmentId: number | null },
): RunEndEvent {
  const { operatorName, ...dps } = written;
  return {
    actor: runActor(operatorName),
    kind: 'device.provisioned',
    subject: record.registrationId,
    detail: {
      runId: record.runId,
      enrollmentId: ids.enrollmentId,
      serialNumber: record.device.serialNumber,
      model: record.device.model,
      port: record.port,
      profile: record.profile,
      attestation: record.attestation,
      // What the device was given to find DPS with, as its run recorded it (null: not recorded).
      ...dps,
      certificateSerial: record.certificateSerial ?? null,
      supersededEnrollmentId: ids.supersededEnrollmentId,
    },
  };
}

/** `run.failed`: how a run that did not pass ended, and what became of its certificate. */
export function failedEvent(
  runId: number,
  outcome: FailedRunOutcome,
  operatorName: string | null,
  certificate: { serial: string | null; abandoned: boolean },
): RunEndEvent {
  return {
    actor: runActor(operatorName),
    kind: 'run.failed',
    subject: outcome.registrationId ?? `run:${runId}`,
    detail: {
      runId,
      state: outcome.state,
      code: outcome.error.code,
      serialNumber: outcome.device?.serialNumber ?? null,
      model: outcome.device?.model ?? null,
      certificateSerial: certificate.serial,
      certificateAbandoned: certificate.abandoned,
    },
  };
}
