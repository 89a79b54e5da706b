import { describe, expect, it } from 'vitest';
import { TypedEvent } from '../../firmware-bridge/typedEvent.js';
import type { StationStatus } from './lineController.js';
import type { SlotView } from './lineTypes.js';
import { runErrorText } from './runErrors.js';
import { logSlotHoldsAndMode } from './slotHoldLog.js';

const status = (mode: 'auto' | 'manual'): StationStatus => ({
  demo: false,
  profile: 'Sensor',
  mode,
  ca: { locked: false, subject: 'CN=CA', daysLeft: 100 },
  notes: [],
});

function lineDouble() {
  let current = status('auto');
  return {
    onSlotChanged: new TypedEvent<SlotView>(),
    onStatusChanged: new TypedEvent<StationStatus>(),
    status: () => current,
    set(mode: 'auto' | 'manual') {
      current = status(mode);
      this.onStatusChanged.emit(current);
    },
  };
}

const view = (state: SlotView['state'], code?: keyof typeof runErrorText): SlotView => ({
  slot: 2,
  port: '/dev/ttyUSB1',
  state,
  progress: 0,
  updatedAt: 0,
  ...(code && { error: { code, message: runErrorText[code] } }),
});

describe('logSlotHoldsAndMode', () => {
  it('says once that a slot holds, again only after it was released, and each mode change', () => {
    const line = lineDouble();
    const logged: string[] = [];
    const stop = logSlotHoldsAndMode(line, (text) => logged.push(text));

    line.onSlotChanged.emit(view('fail', 'RUN_INTERNAL'));
    line.onSlotChanged.emit(view('fail', 'RUN_REPEATED_FAILURE'));
    line.onSlotChanged.emit(view('fail', 'RUN_REPEATED_FAILURE')); // shown again while it holds
    line.set('auto'); // a status change that is no change of mode
    line.set('manual');
    line.onSlotChanged.emit(view('running')); // the operator started it
    line.onSlotChanged.emit(view('fail', 'RUN_NO_ANSWER_REPEATED'));
    stop();
    line.set('auto');

    expect(logged).toEqual([
      `slot 2 /dev/ttyUSB1: held, ${runErrorText.RUN_REPEATED_FAILURE} [RUN_REPEATED_FAILURE]`,
      'Mode: manual, set at the station.',
      `slot 2 /dev/ttyUSB1: held, ${runErrorText.RUN_NO_ANSWER_REPEATED} [RUN_NO_ANSWER_REPEATED]`,
    ]);
  });
});
