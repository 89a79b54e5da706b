import type { TypedEvent } from '../../firmware-bridge/typedEvent.js';
import type { StationStatus } from './lineController.js';
import type { SlotView } from './lineTypes.js';

/** The codes a slot shows while it holds: it starts no run on its port by itself. */
const HOLD_CODES: ReadonlySet<string> = new Set(['RUN_REPEATED_FAILURE', 'RUN_NO_ANSWER_REPEATED']);

/**
 * What a line's log says beside each run that ended: that a slot stopped starting its device by
 * itself (the same device failed, or nothing on the port answered, too often in a row), once per
 * hold, and each change of mode. The card shows both; a log read after the shift did not, and a
 * slot that sat idle for an hour looked like a quiet one.
 */
export function logSlotHoldsAndMode(
  line: {
    onSlotChanged: TypedEvent<SlotView>;
    onStatusChanged: TypedEvent<StationStatus>;
    status(): StationStatus;
  },
  log: (text: string) => void,
): () => void {
  const held = new Set<number>();
  let mode = line.status().mode;
  const offSlot = line.onSlotChanged.on((view) => {
    const code = view.error?.code;
    if (code === undefined || !HOLD_CODES.has(code)) {
      held.delete(view.slot);
      return;
    }
    if (held.has(view.slot)) return;
    held.add(view.slot);
    log(`slot ${view.slot} ${view.port}: held, ${view.error!.message} [${code}]`);
  });
  const offStatus = line.onStatusChanged.on((status) => {
    if (status.mode === mode) return;
    mode = status.mode;
    log(`Mode: ${mode}, set at the station.`);
  });
  return () => {
    offSlot();
    offStatus();
  };
}
