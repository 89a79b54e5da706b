import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { groupKeyFile, loadGroupKeySource, saveGroupKey } from './groupKeys.js';

const KEY = Buffer.alloc(32, 7).toString('base64');

describe('symmetric-key group keys on a real station', () => {
  it('seals the key (never in clear) and hands out copies after one unseal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ls-keys-'));
    const wrapper = new PassphraseKeyWrapper('group key passphrase');
    await saveGroupKey(dir, 'Line3-Group', KEY, wrapper);
    const text = await readFile(groupKeyFile(dir, 'line3-group'), 'utf8');
    expect(text).not.toContain(KEY);
    expect(text).not.toContain(Buffer.from(KEY, 'base64').toString('hex'));

    const source = loadGroupKeySource(dir, wrapper);
    const first = await source('line3-group');
    expect(Buffer.from(first).toString('base64')).toBe(KEY);
    first.fill(0); // the line zeroes its copy; the next caller still gets the key
    expect(Buffer.from(await source('LINE3-GROUP')).toString('base64')).toBe(KEY);
  });

  it('refuses a key that is not base64 of 16 to 64 bytes, and says how to store a missing one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ls-keys-'));
    const wrapper = new PassphraseKeyWrapper('group key passphrase');
    await expect(saveGroupKey(dir, 'g1', 'c2hvcnQ=', wrapper)).rejects.toThrow(/16 to 64 bytes/);
    // Longer than DPS takes: HMAC would stand the key's SHA-256 in for it.
    const long = Buffer.alloc(65, 7).toString('base64');
    await expect(saveGroupKey(dir, 'g1', long, wrapper)).rejects.toThrow(/16 to 64 bytes/);
    await saveGroupKey(dir, 'g1', Buffer.alloc(64, 7).toString('base64'), wrapper);
    await expect(saveGroupKey(dir, '-bad', KEY, wrapper)).rejects.toThrow(/not valid/);
    // DPS IDs end in a letter or digit: a profile could never name this group, so its key
    // would sit sealed and unused while the line stops with STATION_NOT_CONFIGURED.
    await expect(saveGroupKey(dir, 'line3-', KEY, wrapper)).rejects.toThrow(/not valid/);
    await expect(saveGroupKey(dir, 'line 3', KEY, wrapper)).rejects.toThrow(/not valid/);
    await expect(loadGroupKeySource(dir, wrapper)('g2')).rejects.toMatchObject({
      code: 'STATION_NOT_CONFIGURED',
      message: expect.stringContaining('station keys set-group --group g2'),
    });
  });
});
