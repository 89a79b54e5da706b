import { describe, expect, it } from 'vitest';
import { parseStationArgs } from './stationArgs.js';
import { queue } from './queueCommand.js';
import { runs } from './runsCommand.js';

const options = {
  limit: { type: 'string' },
  id: { type: 'string', multiple: true },
  json: { type: 'boolean', default: false },
} as const;

describe('the station option parser', () => {
  it('gives a negative number to the option before it, for the option to refuse itself', () => {
    const { values, positionals } = parseStationArgs({
      args: ['--limit', '-1', '--id', '-2.5', '--id', '7', '--json', '--', '--limit', '-1'],
      options,
      allowPositionals: true,
    });
    expect(values).toEqual({ limit: '-1', id: ['-2.5', '7'], json: true });
    // What follows -- stays as typed.
    expect(positionals).toEqual(['--limit', '-1']);
  });

  it("refuses a forgotten value in the station's words, as a usage error", () => {
    expect(() => parseStationArgs({ args: ['--limit', '--json'], options })).toThrow(
      expect.objectContaining({
        code: 'CLI_USAGE',
        message:
          '--limit needs a value, and what follows it starts with "-": give the value after it, or write --limit=VALUE for a value that starts with "-"',
      }),
    );
    expect(() => parseStationArgs({ args: ['--limit'], options })).toThrow(
      expect.objectContaining({ code: 'CLI_USAGE', message: '--limit needs a value' }),
    );
  });

  it('lets each numeric flag of queue and runs refuse a negative number itself', async () => {
    // Refused before any data folder is looked at: none is given.
    await expect(queue(['list', '--limit', '-5'])).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: '--limit must be a whole number of at least 1, not "-5"',
    });
    await expect(
      queue(['requeue', '--status', 'failed', '--by', 'sam', '--id', '-3']),
    ).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: '--id must be a whole number of at least 1, not "-3"',
    });
    await expect(runs(['list', '--limit', '-1'])).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: '--limit must be a whole number of at least 1, not "-1"',
    });
  });
});
