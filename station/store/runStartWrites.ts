import type { RunDevice, RunDpsRecord, RunStarter } from '../line/runRecorder.js';
import type { ProvisioningStatements } from './provisioningStatements.js';
import { ownerStartTicks, type RunOwner } from './runOwner.js';

/** What opening a run records (RunRecorder.beginRun). */
export interface RunStart {
  port: string;
  profile: string;
  startedAt: number;
  startedBy: RunStarter | undefined;
  device: RunDevice | undefined;
  /** The DPS settings the run writes into its device; absent, the run records none (NULL). */
  dps?: RunDpsRecord | undefined;
  /** Who started it by name, when known (RunOpening.operatorName); absent, NULL. */
  operatorName?: string | undefined;
}

/** The id of the device's row, added if new (its revisions as the statement keeps them). */
export function upsertDevice(
  sql: ProvisioningStatements,
  device: {
    serialNumber: string;
    model: string;
    hardwareRevision?: string;
    firmwareVersion?: string;
  },
  at: Date,
): number {
  return sql.upsertDevice.get(
    device.serialNumber,
    device.model,
    device.hardwareRevision ?? null,
    device.firmwareVersion ?? null,
    at.toISOString(),
  ) as number;
}

/**
 * Inserts a `running` run with its owner (and when its process started: another process that
 * takes the pid after a crash has another start) and, once identify read it, its device: a run a
 * crash cuts off then names the board it was on. Call inside a transaction (two writes).
 */
export function insertRun(
  sql: ProvisioningStatements,
  owner: RunOwner,
  run: RunStart,
  at: Date,
): number {
  const deviceId = run.device ? upsertDevice(sql, run.device, at) : null;
  const inserted = sql.insertRun.run(
    run.port,
    run.profile,
    new Date(run.startedAt).toISOString(),
    owner.host,
    owner.pid,
    owner.token,
    owner.boot ?? null,
    ownerStartTicks(owner) ?? null,
    run.startedBy ?? null,
    deviceId,
    run.dps?.idScope ?? null,
    run.dps?.globalEndpoint ?? null,
    run.dps?.profileFingerprint ?? null,
    run.operatorName ?? null,
  );
  return Number(inserted.lastInsertRowid);
}
