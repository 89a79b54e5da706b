import { afterEach, describe, expect, it, vi } from 'vitest';
import { RecordingLine } from '../api/recordingLine.test-double.js';
import type { DemoStationOptions } from '../demo/demoStation.js';
import { provision } from './provisionCommand.js';
import { serve } from './serveCommand.js';

// The DEMO station is replaced by a double that records the options it was started with.
const demoStarts = vi.hoisted(() => [] as DemoStationOptions[]);
vi.mock('../demo/demoStation.js', () => ({
  startDemoStation: async (options: DemoStationOptions) => {
    demoStarts.push(options);
    return { line: new RecordingLine(), stop: async () => undefined };
  },
}));

afterEach(() => {
  demoStarts.length = 0;
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** Quiet console; returns what went to standard error. */
function captureErrors(): string[] {
  const errors: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
  return errors;
}

describe('station serve --demo', () => {
  it.each([
    [['--profiles', 'line7.json'], '--profiles'],
    [['--device', '/dev/ttyUSB0'], '--device'],
    [['--discover'], '--discover'],
    [['--product', 'Sensor'], '--product'],
  ])('refuses the real line flags %j instead of running the DEMO line', async (flags, named) => {
    const errors = captureErrors();
    const code = await serve(['--demo', ...flags], { until: Promise.resolve(), print: () => {} });
    expect(errors.join('\n')).toContain(named);
    expect(code).toBe(2);
    expect(demoStarts).toEqual([]);
  });

  it('runs the DEMO line in manual mode when asked', async () => {
    const code = await serve(['--demo', '--manual'], {
      until: Promise.resolve(),
      print: () => {},
    });
    expect(code).toBe(0);
    expect(demoStarts).toEqual([expect.objectContaining({ mode: 'manual' })]);
  });
});

describe('station provision', () => {
  it('refuses --discover, which it cannot honour (one device, one run)', async () => {
    const errors = captureErrors();
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', 'never used');
    const code = await provision([
      '--profiles',
      'p.json',
      '--device',
      '/dev/ttyUSB0',
      '--discover',
    ]);
    expect(code).toBe(2);
    expect(errors.join('\n')).toMatch(/--discover/);
  });
});
