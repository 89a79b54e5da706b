import { BANK_COMMITTED } from '../../firmware-bridge/codec/messages.js';
import type { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import type { PortPass, RunRecorder } from './runRecorder.js';

/** INFO's identity state of a device with a committed X.509 identity key (PROTOCOL.md §4.1). */
export const IDENTITY_COMMITTED = 1;

/**
 * The last PASS of each port, read once as a line starts. A line stopped and started again (a
 * restart, an update, a power cut) finds the boards it passed still on the fixture: auto mode
 * would run each again, and its duplicate policy would fail good boards (refuse) or re-key them,
 * spending a certificate and a DPS operation on each (reprovision). Empty when the store cannot
 * say: the line then runs them as before.
 */
export function passesBeforeStart(recorder: RunRecorder): Map<string, PortPass> {
  try {
    return new Map((recorder.lastPassesByPort?.() ?? []).map((pass) => [pass.port, pass]));
  } catch {
    return new Map();
  }
}

/**
 * The log's line for a board the restart check left alone (Slot.confirmEarlierPass): its slot
 * shows a PASS that no run of this start made, so the runs' lines (runEndedText) never name it,
 * and a log read after the shift would show an idle port. Says how to have the board run again.
 */
export function earlierPassKeptText(slot: number, port: string, pass: PortPass): string {
  const board = `${pass.serialNumber} (${pass.model})`;
  return `slot ${slot} ${port}: PASS kept, ${board} still holds ${pass.registrationId} from run ${pass.runId}, so the restarted line runs nothing on it; to run it again, unplug it and plug it back.`;
}

/**
 * Whether the device on the port is the board its last run passed, still holding what that run
 * gave it: the same serial number and model, a committed identity, and that run's registration
 * ID in its committed DPS settings. INFO and GET_CONFIG only read: nothing is written to a board
 * this decides to leave alone.
 */
export async function holdsEarlierPass(
  session: DeviceSession,
  pass: PortPass,
  signal: AbortSignal,
): Promise<boolean> {
  const info = await session.identify({ signal });
  const sameBoard = info.serialNumber === pass.serialNumber && info.model === pass.model;
  if (!sameBoard || info.identityState !== IDENTITY_COMMITTED) return false;
  const committed = await session.request('GET_CONFIG', { bank: BANK_COMMITTED }, { signal });
  return committed.registrationId === pass.registrationId;
}
