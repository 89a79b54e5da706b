import { describe, expect, it } from 'vitest';
import { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import { MockTransport } from '../../firmware-bridge/transports/mockTransport.js';
import type { SlotView } from './lineTypes.js';
import type { RunOutcome } from './provisioningRun.js';
import { Slot } from './slot.js';

const link = { bytesWritten: 0, bytesRead: 0 };

describe('Slot', () => {
  it("shows a run's first progress, reported before the runner returns, and none after its end", async () => {
    const views: SlotView[] = [];
    const slot = new Slot(1, '/dev/ttyUSB0', (view) => views.push(view));
    let report: ((step: 'identify' | 'validate') => void) | undefined;
    const outcome = await slot.run(async (_signal, onProgress) => {
      report = (step) => onProgress({ runId: 7, step, progress: 0.1 });
      report('identify');
      await Promise.resolve();
      return {
        state: 'cancelled',
        runId: 7,
        error: { code: 'RUN_CANCELLED', message: 'x' },
        link,
      } as RunOutcome;
    });
    report!('validate');

    expect(outcome.state).toBe('cancelled');
    expect(views.map((v) => [v.state, v.step, v.runId])).toEqual([
      ['running', 'identify', undefined],
      ['running', 'identify', 7],
      ['cancelled', 'identify', 7],
    ]);
  });
});

describe('Slot sessions after a failed run', () => {
  const failed = { state: 'fail', error: { code: 'WIRE_TIMEOUT', message: 'x' }, link } as const;

  /** A slot whose port is there, and the sessions its runs open, in order. */
  function slotWithSessions(port: string) {
    const slot = new Slot(1, port, () => undefined);
    slot.present = true;
    const sessions: DeviceSession[] = [];
    const open = async () => {
      const session = await DeviceSession.open(MockTransport.pair(port)[0]);
      sessions.push(session);
      return session;
    };
    const runOnce = () =>
      slot.run(async () => {
        await slot.sessionOr(open);
        return failed;
      });
    return { slot, sessions, runOnce };
  }

  it('keeps a local port open until the next run, which opens a session of its own', async () => {
    const { slot, sessions, runOnce } = slotWithSessions('/dev/ttyUSB0');
    await runOnce();
    expect(sessions[0]!.isClosed).toBe(false); // still open: its hang-up tells of an unplug
    await runOnce();
    expect(sessions).toHaveLength(2);
    expect(sessions[0]!.isClosed).toBe(true);
    await slot.dropSession();
    expect(sessions[1]!.isClosed).toBe(true);
  });

  it("closes a serial device server's session at once, and any session of a port that went", async () => {
    const tcp = slotWithSessions('tcp://127.0.0.1:4001');
    await tcp.runOnce();
    expect(tcp.sessions[0]!.isClosed).toBe(true);

    const gone = slotWithSessions('/dev/ttyUSB1');
    const run = gone.runOnce();
    gone.slot.disappeared();
    await run;
    expect(gone.sessions[0]!.isClosed).toBe(true);
  });
});
