import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  forgetSavedLine,
  readSavedLine,
  saveLine,
  savedLinePath,
  type SavedLine,
} from './savedLine.js';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'saved-line-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const LINE: SavedLine = {
  version: 1,
  profiles: '/etc/line-station/profiles.json',
  product: 'LS-100',
  devices: ['/dev/ttyUSB0', 'tcp://10.0.0.5:4001'],
  discover: false,
  baud: 115_200,
  mode: 'auto',
};

function expectInvalid(content: string, ...fragments: string[]): void {
  writeFileSync(savedLinePath(dataDir), content);
  let thrown: unknown;
  try {
    readSavedLine(dataDir);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toMatchObject({ code: 'STATION_LINE_INVALID' });
  const message = (thrown as Error).message;
  expect(message).toContain(savedLinePath(dataDir));
  for (const fragment of fragments) expect(message).toContain(fragment);
}

describe('the saved line', () => {
  it('is read back as saved, owner-only; none saved reads as undefined', async () => {
    expect(readSavedLine(dataDir)).toBeUndefined();
    await saveLine(dataDir, LINE);
    expect(readSavedLine(dataDir)).toEqual(LINE);
    expect(statSync(savedLinePath(dataDir)).mode & 0o777).toBe(0o600);
    expect(await forgetSavedLine(dataDir)).toBe(true);
    expect(readSavedLine(dataDir)).toBeUndefined();
    expect(await forgetSavedLine(dataDir)).toBe(false);
  });

  it('refuses a file that does not fit, naming the field, rather than run the DEMO instead', () => {
    const with_ = (patch: Record<string, unknown>) => JSON.stringify({ ...LINE, ...patch });
    expectInvalid('{"version": 1,', 'not JSON');
    expectInvalid(with_({ baud: 'fast' }), 'baud:');
    expectInvalid(with_({ profiles: 'profiles.json' }), 'profiles: expected an absolute path');
    expectInvalid(with_({ devices: [], discover: false }), 'devices: no ports');
    expectInvalid(with_({ devices: ['/dev/ttyUSB0', '/dev/ttyUSB0'] }), 'listed twice');
    expectInvalid(with_({ mode: 'fast' }), 'mode:');
    expectInvalid(with_({ passphrase: 'x' }), 'passphrase');
    expectInvalid(with_({ version: 2 }), 'version:');
  });

  it("says in each field's own words what it takes, with paths as devices[0]", () => {
    // zod's own text ('Invalid option: expected one of "auto"|"manual"') reads as a program's.
    const with_ = (patch: Record<string, unknown>) => JSON.stringify({ ...LINE, ...patch });
    const { mode: _mode, ...withoutMode } = LINE;
    const cases: [content: string, says: string][] = [
      [with_({ mode: 'fast' }), 'mode: expected auto or manual'],
      [with_({ baud: 'fast' }), 'baud: expected a whole number from 300 to 10000000'],
      [with_({ baud: 115_200.5 }), 'baud: expected a whole number from 300 to 10000000'],
      [with_({ baud: 20_000_000 }), 'baud: expected a whole number from 300 to 10000000'],
      [with_({ discover: 'yes' }), 'discover: expected true or false'],
      [with_({ version: 2 }), 'version: expected 1'],
      [
        with_({ profiles: 'profiles.json' }),
        'profiles: expected an absolute path to the profiles file',
      ],
      [with_({ profiles: 7 }), 'profiles: expected an absolute path to the profiles file'],
      [with_({ devices: '/dev/ttyUSB0' }), 'devices: expected a list of port paths'],
      [with_({ devices: ['/dev/ttyUSB0', 5] }), 'devices[1]: expected a port path'],
      [with_({ passphrase: 'x' }), 'passphrase: unknown field (check the spelling)'],
      [JSON.stringify(withoutMode), 'mode is required'],
      ['[]', "the file: expected a JSON object with the line's settings"],
    ];
    for (const [content, says] of cases) {
      expectInvalid(content, `cannot be used: ${says}`);
      expect(() => readSavedLine(dataDir)).not.toThrow(/Invalid (input|option)/);
    }
  });

  it('refuses to save a blank device with its coded error, in its own words, writing nothing', async () => {
    for (const blank of ['', '  ']) {
      const saving = saveLine(dataDir, { ...LINE, devices: ['/dev/ttyUSB0', blank] });
      await expect(saving).rejects.toMatchObject({ code: 'STATION_LINE_INVALID' });
      await expect(saving).rejects.toThrow(
        `The line cannot be saved in ${savedLinePath(dataDir)}: devices[1]: expected a port path`,
      );
      expect(existsSync(savedLinePath(dataDir))).toBe(false);
    }
    // Nor is one that was written by hand read back as a port.
    expectInvalid(JSON.stringify({ ...LINE, devices: [' '] }), 'devices[0]: expected a port path');
  });

  it('reads a file saved by an editor with a byte order mark', async () => {
    await saveLine(dataDir, LINE);
    const text = readFileSync(savedLinePath(dataDir), 'utf8');
    writeFileSync(savedLinePath(dataDir), `\uFEFF${text}`);
    expect(readSavedLine(dataDir)).toEqual(LINE);
  });
});
