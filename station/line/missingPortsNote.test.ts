import { mkdtemp, rm, symlink, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Line } from './line.js';
import type { LineOptions } from './line.js';
import {
  codeOf,
  nextEvent,
  nextRunEnd,
  oneSimulatedDevicePerTest,
  testLine,
  within,
} from './testing/lineTestKit.js';

const simulatedDevice = oneSimulatedDevicePerTest();
let dir: string;
let line: Line | undefined;
let logged: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ls-test-nope-'));
  logged = [];
});
afterEach(async () => {
  await line?.stop();
  line = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** A line on `configured`, polled every 20 ms, that names a missing path after 100 ms. */
async function startLine(configured: string[], mode: LineOptions['mode']): Promise<Line> {
  line = await testLine({
    ports: { configured, discover: false, baudRate: 0, pollMs: 20, missingAfterMs: 100 },
    mode,
    log: (text) => logged.push(text),
  });
  return line;
}

const missingNote = (notes: readonly string[]) => notes.find((n) => n.startsWith('No such port'));

describe('a configured port path that is not there', () => {
  it('is named in the notes after a while, and leaves them when a device appears on it', async () => {
    const port = join(dir, 'ttyX');
    const started = await startLine([port, 'tcp://127.0.0.1:9'], 'auto');
    const noted = nextEvent(started.onStatusChanged, (s) => missingNote(s.notes) !== undefined);
    await started.start();
    // Not at once: at the start a port may simply not be plugged in yet.
    expect(missingNote(started.status().notes)).toBeUndefined();

    const status = await within(5_000, noted);
    // Only the local path: whether a serial device server is there no file can say.
    expect(missingNote(status?.notes ?? [])).toBe(
      `No such port: ${port} — check the cable or adapter, or the path given for the line (station ports lists the ports this machine has).`,
    );
    expect(started.slots()[0]!.state).toBe('empty');
    expect(logged.filter((text) => text.startsWith('No such port'))).toEqual([
      missingNote(status!.notes),
    ]);

    // Hot-plug still works: the adapter plugged in later gets its device provisioned.
    const device = await simulatedDevice();
    const cleared = nextEvent(started.onStatusChanged, (s) => missingNote(s.notes) === undefined);
    const ended = nextRunEnd(started);
    await symlink(device.hostPath, port);
    expect(await within(5_000, cleared)).toBeDefined();
    expect(codeOf(await ended)).toBe('PASS');
    expect(logged).toContain(`Port ${port} is there now.`);
    expect(logged.filter((text) => text.startsWith('No such port'))).toHaveLength(1);
  });

  it('is not named once it was there: an unplugged device takes its path with it', async () => {
    const device = await simulatedDevice();
    const port = join(dir, 'ttyACM0');
    await symlink(device.hostPath, port);
    const started = await startLine([port], 'manual');
    await started.start();
    await unlink(port);
    await started.rescan();
    expect(started.slots()[0]!.state).toBe('empty');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(missingNote(started.status().notes)).toBeUndefined();
    expect(logged.filter((text) => text.startsWith('No such port'))).toEqual([]);
  });

  it('is what a provision on it is refused with', async () => {
    const port = join(dir, 'ttyUSB9');
    const started = await startLine([port], 'manual');
    await started.start();
    expect(() => started.provision(1)).toThrow(
      expect.objectContaining({
        code: 'LINE_PORT_ABSENT',
        detail: expect.stringContaining(`there is no ${port} on this machine; check the path`),
      }),
    );
  });
});
