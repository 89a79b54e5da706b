/**
 * What the technician is told when the station core keeps crashing. CoreHost restarts it with
 * backoff, and the window says "Connecting…" meanwhile, which after the first crash or two is
 * the truth. A core that crashes again and again (a broken database, a failing disk, a bad
 * update) would leave the line waiting with nothing on screen saying why: main shows this once
 * per streak of crashes, when the streak reaches CRASHES_BEFORE_NOTICE.
 */
import type { CoreExit } from './coreHost.js';

export const CRASHES_BEFORE_NOTICE = 3;

export interface CrashNotice {
  title: string;
  message: string;
  detail: string;
}

/** The notice for this exit, or undefined when there is nothing to tell yet (or any more). */
export function coreCrashNotice(exit: CoreExit): CrashNotice | undefined {
  if (!exit.crashed || exit.crashesInARow !== CRASHES_BEFORE_NOTICE) return undefined;
  const retry =
    exit.restartInMs === undefined
      ? 'It will not be restarted.'
      : `Line Station starts it again in ${Math.round(exit.restartInMs / 1000)} s and keeps trying.`;
  return {
    title: 'Line Station: the station keeps stopping',
    message: `The station core stopped unexpectedly ${exit.crashesInARow} times in a row. No device is provisioned until it stays up.`,
    detail: `${retry} Devices that showed PASS are recorded. Call a supervisor: the station's output names the cause. (Last exit code ${exit.code}.)`,
  };
}
