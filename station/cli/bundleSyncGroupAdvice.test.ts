/**
 * What `bundle sync` tells the supervisor to do about symmetric-key group members, and that doing
 * it works: members whose group DPS lacks or will not take are `failed` in the receipt (no run of
 * the bundle sends them again), and members of a bundle without their group key's fingerprint
 * wait whatever the bundle's next run does. It advised "run the same bundle sync again" for
 * both, or nothing. Real parts: the line's CA, `keys set-group`, `bundle export`, `bundle sync`
 * against the DPS emulator over HTTPS, `bundle receive`, real station databases and sealed files.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import type { DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { dpsClientFor } from '../production/dpsConnection.js';
import { requeueEnrollments } from '../sync/outboxRequeue.js';
import type { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { airGapGroupLine } from '../bundle/testing/airGapGroupLine.js';
import { bundleCommand } from './bundleCommand.js';
import { keys } from './keysCommand.js';

const GROUP_KEY = randomBytes(32).toString('base64');
const gap = airGapGroupLine(GROUP_KEY);
let line: SyncTestStation;
let emulator: DpsEmulator;
let dir: string;
let output: string[];
beforeEach(() => ({ line, emulator, dir, output } = gap));
const office = () => gap.office;
const provisionX509 = (serial: string) => gap.provisionX509(serial);
const bundle = bundleCommand(dpsClientFor);
const exportTo = (name: string, ...flags: string[]) =>
  bundle(['export', '--out', join(dir, name), ...flags, '--data-dir', line.dir]);
const syncOnline = (name: string) =>
  bundle(['sync', join(dir, name), '--by', 'sam', '--data-dir', office()]);
const receive = (name: string) =>
  bundle(['receive', join(dir, name.replace(/\.bundle$/, '.receipt')), '--data-dir', line.dir]);
const setGroup = (group: string) => keys(['set-group', '--group', group, '--data-dir', line.dir]);

/** Creates enrollment group `id` in DPS with `primaryKey`, or gives the one there that key. */
async function groupInDps(id: string, primaryKey: string): Promise<void> {
  const dps = new DpsServiceClient({
    connectionString: parseConnectionString(emulator.serviceConnectionString),
    ca: emulator.caCertificatePem,
  });
  try {
    // DPS replaces a group only for its current etag.
    const etag = (await dps.getEnrollmentGroup(id))?.etag;
    await dps.createOrUpdateEnrollmentGroup(
      {
        enrollmentGroupId: id,
        attestation: { type: 'symmetricKey', symmetricKey: { primaryKey } },
      },
      etag,
    );
  } finally {
    dps.close();
  }
}

/** What `bundle sync` printed from its "DPS answered" line on. */
const afterAnswer = () => output.slice(output.findIndex((l) => l.startsWith('DPS answered:')));

describe('station bundle sync, for group members', () => {
  it('says to fix the group in DPS and requeue on the line after the receipt, and that works', async () => {
    expect(await setGroup('gadgets')).toBe(0);
    expect(await setGroup('widgets')).toBe(0);
    const missing = line.provisionGroupMember('G1', 'gadgets');
    const mismatched = line.provisionGroupMember('W1', 'widgets');
    await groupInDps('widgets', randomBytes(32).toString('base64'));
    expect(await exportTo('line7.bundle')).toBe(0);

    output.length = 0;
    expect(await syncOnline('line7.bundle')).toBe(1);
    expect(afterAnswer()).toEqual([
      'DPS answered: 0 synced, 2 failed, 0 conflict; 0 without an answer.',
      `Receipt: ${join(dir, 'line7.receipt')}. Take it back to the station and run \`station bundle receive\`.`,
      "2 group member(s) failed on their enrollment group in DPS: 1 [SYNC_GROUP_MISSING]: DPS holds no enrollment group of the name given; 1 [SYNC_GROUP_MISMATCH]: their enrollment group in DPS will not take them (disabled, another attestation, or neither of its keys is the line's group key). No run of this bundle sends them again; for them:",
      "  1. Fix the group in DPS: create it, or enable it, with symmetric-key attestation and the line's group key (the one `station keys set-group` stored on the line) as its primary or secondary key. `station queue list --status failed` on the line names the group.",
      '  2. On the line, once this receipt is received (`station bundle receive`): `station queue requeue --status failed --by NAME`, then `station bundle export`, and sync that bundle here.',
    ]);

    // As told: the groups fixed in DPS, the receipt received, the members requeued and sent.
    await groupInDps('gadgets', GROUP_KEY);
    await groupInDps('widgets', GROUP_KEY);
    expect(await receive('line7.bundle')).toBe(1);
    expect(requeueEnrollments(line.db, { status: 'failed', supervisor: 'sam' })).toHaveLength(2);
    expect(await exportTo('line7-again.bundle')).toBe(0);
    expect(await syncOnline('line7-again.bundle')).toBe(0);
    expect(await receive('line7-again.bundle')).toBe(0);
    expect(line.row(missing)).toMatchObject({ status: 'synced' });
    expect(line.row(mismatched)).toMatchObject({ status: 'synced' });
  });

  it('says to export again once the receipt is received when the bundle carries no group key fingerprint, and that works', async () => {
    // The group's key was not stored on the line at export: the bundle carries no fingerprint.
    const member = line.provisionGroupMember('G1', 'gadgets');
    const x509 = provisionX509('X1');
    expect(await exportTo('line7.bundle')).toBe(0);
    await groupInDps('gadgets', GROUP_KEY);

    output.length = 0;
    expect(await syncOnline('line7.bundle')).toBe(1);
    const receipt = join(dir, 'line7.receipt');
    expect(afterAnswer()).toEqual([
      'DPS answered: 1 synced, 0 failed, 0 conflict; 1 without an answer.',
      expect.stringMatching(/^Stopped early: .*\[SYNC_GROUP_KEY_UNAVAILABLE\]$/),
      `Receipt: ${receipt}. It holds 1 final answer(s) (1 synced, 0 failed, 0 conflict) and 1 enrollment(s) still pending.`,
      'Next:',
      '  1. Take this receipt back to the station and run `station bundle receive`: it settles the 1 answered.',
      "  2. On the line, once this receipt is received, export again: `station bundle export` (receiving lets these members go into the next bundle). This bundle carries no fingerprint of its group members' group key (an earlier version exported it, or the key did not open there: store it first with `station keys set-group --group ID`), so no run of it here can confirm them; a bundle this version exports carries it.",
      `  3. Sync that new bundle here: \`station bundle sync FILE --data-dir ${office()}\`.`,
      '  4. Take that receipt back to the station and run `station bundle receive`.',
      'This receipt may be taken back now only for the 1 enrollment(s) already answered; the 1 pending stay pending on the line until a later receipt answers them.',
    ]);
    expect(output.join('\n')).not.toMatch(/Run `station bundle sync .*line7\.bundle.*` again/);

    // As told: the receipt home, the key stored, the member exported again and sent.
    expect(await receive('line7.bundle')).toBe(1);
    expect(line.row(x509)).toMatchObject({ status: 'synced' });
    expect(await setGroup('gadgets')).toBe(0);
    expect(await exportTo('line7-again.bundle')).toBe(0);
    expect(await syncOnline('line7-again.bundle')).toBe(0);
    expect(await receive('line7-again.bundle')).toBe(0);
    expect(line.row(member)).toMatchObject({ status: 'synced' });
  });

  it('receive says the members go in the next bundle, and a plain export carries them', async () => {
    const member = line.provisionGroupMember('G1', 'gadgets');
    expect(await exportTo('line7.bundle')).toBe(0);
    await groupInDps('gadgets', GROUP_KEY);
    expect(await syncOnline('line7.bundle')).toBe(1);

    output.length = 0;
    expect(await receive('line7.bundle')).toBe(1);
    const told = output.join('\n');
    expect(told).toContain('0 still pending, 1 to export again.');
    expect(told).toContain(
      `They stay pending and go in the next bundle: export again (\`station bundle export --data-dir ${line.dir}\``,
    );
    expect(told).not.toContain('run `bundle sync` there again');

    expect(await setGroup('gadgets')).toBe(0);
    expect(await exportTo('line7-again.bundle')).toBe(0);
    expect(await syncOnline('line7-again.bundle')).toBe(0);
    expect(await receive('line7-again.bundle')).toBe(0);
    expect(line.row(member)).toMatchObject({ status: 'synced' });
  });
});
