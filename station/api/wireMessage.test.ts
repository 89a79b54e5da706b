import { describe, expect, it } from 'vitest';
import { API_ERROR_CODES } from './contract.js';
import { readWireMessage } from './wireMessage.js';

const ping = { id: 1, type: 'command', command: 'ping', args: {} };

/** Runs `read` and says how long it held the thread. */
function timed<T>(read: () => T): { result: T; ms: number } {
  const started = performance.now();
  const result = read();
  return { result, ms: performance.now() - started };
}

function codeOf(read: ReturnType<typeof readWireMessage>): string | undefined {
  return read.ok ? undefined : read.error.code;
}

describe('readWireMessage on a cloned object (MessagePort)', () => {
  it('refuses a large typed array at once, without turning it into text', () => {
    const message = structuredClone({ ...ping, pad: new Uint8Array(1_000_000) });
    // Serialising it whole took ~500 ms here; the bound leaves a loaded CI a wide margin.
    const { result, ms } = timed(() => readWireMessage(message));
    expect(codeOf(result)).toBe(API_ERROR_CODES.tooLarge);
    expect(ms).toBeLessThan(250);
  });

  it('refuses binary data of any size, which JSON has no form for', () => {
    for (const pad of [new Uint8Array(16), new Float64Array(2), new ArrayBuffer(8)]) {
      const read = readWireMessage(structuredClone({ ...ping, pad }));
      expect(codeOf(read)).toBe(API_ERROR_CODES.badMessage);
    }
  });

  it('refuses other values JSON would quietly change', () => {
    for (const pad of [new Map([[1, 2]]), new Set([1]), new Date(0), /x/, 1n]) {
      const read = readWireMessage(structuredClone({ ...ping, args: { pad } }));
      expect(codeOf(read)).toBe(API_ERROR_CODES.badMessage);
    }
  });

  it('stops reading a huge array once it is past the limit', () => {
    let visited = 0;
    const elements = new Array<number>(1_000_000).fill(0);
    const pad = new Proxy(elements, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) visited += 1;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const read = readWireMessage({ ...ping, pad });
    expect(codeOf(read)).toBe(API_ERROR_CODES.tooLarge);
    // Each element costs at least a digit and a comma, so 64 KB is passed within ~33,000.
    expect(visited).toBeLessThan(70_000);
  });

  it('stops reading an object with 200,000 keys once it is past the limit', () => {
    // Listing the keys is O(n) whatever the reader does (and cloning them cost the receiver more
    // still), so this checks the part the reader controls: it reads few of their values.
    const keys: Record<string, number> = {};
    for (let i = 0; i < 200_000; i++) keys[`k${i}`] = i;
    let visited = 0;
    const pad = new Proxy(keys, {
      get(target, key, receiver) {
        visited += 1;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const read = readWireMessage({ ...ping, pad });
    expect(codeOf(read)).toBe(API_ERROR_CODES.tooLarge);
    // Each key costs at least its quotes, colon, a digit and a comma.
    expect(visited).toBeLessThan(70_000);
  });

  it('passes ordinary commands, including ones just under the limit', () => {
    const setMode = { id: 2, type: 'command', command: 'setMode', args: { mode: 'auto' } };
    expect(readWireMessage(structuredClone(setMode))).toEqual({ ok: true, value: setMode });
    const optional = { id: 3, type: 'command', command: 'recentRuns', args: { limit: undefined } };
    expect(readWireMessage(structuredClone(optional)).ok).toBe(true);
    const near = { ...ping, note: 'x'.repeat(60_000), list: [1, 2, [3, { a: null, b: true }]] };
    expect(readWireMessage(structuredClone(near))).toEqual({ ok: true, value: near });
    expect(codeOf(readWireMessage({ ...ping, note: 'x'.repeat(70_000) }))).toBe(
      API_ERROR_CODES.tooLarge,
    );
    // Multi-byte text is measured in UTF-8 bytes, as before.
    expect(codeOf(readWireMessage({ ...ping, note: 'é'.repeat(40_000) }))).toBe(
      API_ERROR_CODES.tooLarge,
    );
  });

  it('reads JSON text as before', () => {
    expect(readWireMessage(JSON.stringify(ping))).toEqual({ ok: true, value: ping });
    expect(codeOf(readWireMessage('{"id":'))).toBe(API_ERROR_CODES.badMessage);
  });
});
