import { describe, expect, it } from 'vitest';
import { throttledRefusalLog } from './refusalLog.js';

describe('the log of refused origins', () => {
  it('says the first refusal of an origin at once, then one line a minute with the count', () => {
    const lines: string[] = [];
    let clock = 0;
    const refused = throttledRefusalLog((line) => lines.push(line), { now: () => clock });
    for (let i = 0; i < 500; i++) refused('http://evil.example');
    refused(undefined);
    expect(lines).toEqual([
      'station serve: refused a WebSocket from origin "http://evil.example"',
      'station serve: refused a WebSocket from origin null',
    ]);
    clock = 60_000;
    refused('http://evil.example');
    expect(lines[2]).toBe(
      'station serve: refused a WebSocket from origin "http://evil.example" (and 499 more since the last line)',
    );
  });

  it('counts a flood of new origins together once it knows many', () => {
    const lines: string[] = [];
    const refused = throttledRefusalLog((line) => lines.push(line), { now: () => 0 });
    for (let i = 0; i < 1_000; i++) refused(`http://site${i}.example`);
    expect(lines).toHaveLength(65);
    expect(lines.at(-1)).toBe('station serve: refused a WebSocket from origin other origins');
  });
});
