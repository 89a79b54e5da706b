import { describe, expect, it } from 'vitest';
import type { SlotView } from '../line/lineTypes.js';
import { commandHandlers, lineEvents } from './commandHandlers.js';
import type { ApiError } from './contract.js';
import { createPipePair } from './pipePair.js';
import { RecordingLine } from './recordingLine.test-double.js';
import { serveStationApi } from './serveStationApi.js';
import { StationClient } from './stationClient.js';

/** A failed slot whose error detail quotes `detailChars` characters of what a device sent. */
function failedSlot(slot: number, detailChars: number): SlotView {
  return {
    slot,
    port: `/dev/ttyUSB${slot}`,
    state: 'fail',
    progress: 0.4,
    serialNumber: `SN${slot}`,
    error: {
      code: 'CSR_SUBJECT_MISMATCH',
      message: 'The device asked for a certificate with the wrong name. Set it aside.',
      detail: `CN "${'A'.repeat(detailChars)}"`,
    },
    updatedAt: 1_700_000_000_000,
  };
}

/** A full line of failed slots, the first with a device text far over the contract's limit. */
class FailedLine extends RecordingLine {
  override slots(): SlotView[] {
    return Array.from({ length: 64 }, (_, i) => failedSlot(i + 1, i === 0 ? 10_000 : 3_000));
  }
}

function connected() {
  const line = new FailedLine();
  const [stationEnd, clientEnd] = createPipePair();
  serveStationApi(stationEnd, {
    handlers: commandHandlers(line, { local: true }),
    events: lineEvents(line),
  });
  const protocolErrors: ApiError[] = [];
  const client = new StationClient(clientEnd, {
    timeoutMs: 2_000,
    onProtocolError: (e) => protocolErrors.push(e),
  });
  return { line, client, protocolErrors };
}

describe('what the station sends fits the contract', () => {
  it('gives a UI the snapshot of a full line of long failures, each text cut to the limit', async () => {
    const { client, protocolErrors } = connected();
    const snapshot = await client.call('snapshot');
    expect(protocolErrors).toEqual([]);
    expect(snapshot.slots).toHaveLength(64);
    const detail = snapshot.slots[0]!.error!.detail!;
    expect(detail).toHaveLength(4096);
    expect(detail.endsWith('…')).toBe(true);
    expect(snapshot.slots[1]!.error!.detail).toBe(`CN "${'A'.repeat(3_000)}"`);
    client.close();
  });

  it("delivers a slot's update whose device text is over the limit, cut, not dropped", async () => {
    const { line, client, protocolErrors } = connected();
    const seen = new Promise<SlotView>((resolve) => client.on('slot', resolve));
    line.onSlotChanged.emit(failedSlot(7, 10_000));
    const slot = await seen;
    expect(protocolErrors).toEqual([]);
    expect(slot).toMatchObject({ slot: 7, state: 'fail' });
    expect(slot.error!.detail).toHaveLength(4096);
    client.close();
  });
});
