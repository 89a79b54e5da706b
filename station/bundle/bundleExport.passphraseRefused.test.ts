/**
 * `bundle export` on a line whose CA passphrase is mistyped when only retirements need it: the
 * pending enrollments leave all the same, and the supervisor reads what stayed out and why.
 * Real parts: the line's station database and CA, the real `bundle export` command reading the
 * CA passphrase from the environment, the sealed bundle opened as the office would.
 */
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import type { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { airGapGroupLine, LINE_PASSPHRASE } from './testing/airGapGroupLine.js';
import { bundleCommandsOn } from './testing/bundleCommands.js';

const gap = airGapGroupLine();
let line: SyncTestStation;
let output: string[];
beforeEach(() => ({ line, output } = gap));
const { exportTo, openedBundle } = bundleCommandsOn(gap);

describe('bundle export with the CA passphrase refused', () => {
  it('carries the pending enrollments and says which retirements and members wait, and why', async () => {
    // SN1's symmetric-key enrollment left in a bundle; SN1 is a group member under its ID now.
    // Its key sealed under the CA passphrase, as the line seals it.
    const caWrapper = new PassphraseKeyWrapper(LINE_PASSPHRASE, { scrypt: { N: 1024 } });
    const earlier = await line.provisionSymmetric('SN1', randomBytes(32), 'reg-sn1', caWrapper);
    expect(await exportTo('first.bundle')).toBe(0);
    const member = line.provisionGroupMember('SN1', 'gadgets');
    const sn2 = gap.provisionX509('SN2');

    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', 'not the line passphrase');
    output.length = 0;
    expect(await exportTo('second.bundle')).toBe(0);
    const bundle = await openedBundle('second.bundle');
    expect(bundle.enrollments.map((e) => e.id)).toEqual([sn2]);
    expect(bundle.retirements ?? []).toEqual([]);
    const said = output.join('\n');
    expect(said).toMatch(
      /1 earlier enrollment\(s\) due to be disabled or deleted in DPS stay out of this bundle \(their symmetric keys need the CA passphrase, which was refused: .*\[CUSTODY_WRONG_PASSPHRASE\]\)/,
    );
    expect(said).toMatch(
      /1 group member\(s\) stay pending here, out of this bundle: .* Export again with the CA passphrase\./,
    );
    expect(line.store.audit('ca.passphrase-refused')[0]).toMatchObject({
      detail: { command: 'bundle export' },
    });
    expect(line.row(member).status).toBe('pending');
    expect(
      line.db.prepare(`SELECT retirement FROM enrollments WHERE id = ?`).pluck().get(earlier),
    ).toBe('due');
  });
});
