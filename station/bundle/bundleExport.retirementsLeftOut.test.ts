/**
 * What `bundle export` does with retirements it cannot carry: a symmetric key only a retirement
 * needs, with the CA passphrase refused, and more retirements due than a bundle takes. The
 * pending enrollments go all the same; a group member whose blocking deletion stays out stays
 * out with it. Real parts: a station database, sealed bundle files opened as the office would.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { exportBundle } from './bundleExport.js';
import { MAX_BUNDLE_RETIREMENTS } from './bundlePayload.js';
import { exportRequest, openBundle } from './testing/exportTestKit.js';

let line: SyncTestStation;
beforeEach(() => {
  line = new SyncTestStation();
});
afterEach(() => line.close());

/** The CA passphrase as a command refuses it: mistyped. */
const refused = () =>
  Promise.reject(
    Object.assign(new Error('the passphrase is wrong'), { code: 'CUSTODY_WRONG_PASSPHRASE' }),
  );

let files = 0;
const exportWith = (caSecrets?: typeof refused) =>
  exportBundle(
    exportRequest(line, join(line.dir, `b${++files}.bundle`), caSecrets ? { caSecrets } : {}),
  );

const provisionSymmetric = (registrationId: string) =>
  line.provisionSymmetric('SN1', randomBytes(32), registrationId);

const retirementOf = (id: number): unknown =>
  line.db.prepare(`SELECT retirement FROM enrollments WHERE id = ?`).pluck().get(id);

describe('bundle export: retirements it cannot carry', () => {
  it('carries the pending enrollments when only a retirement needs the refused CA passphrase', async () => {
    const earlier = await provisionSymmetric('reg-sn1');
    await exportWith(); // carried once: DPS may hold it
    await provisionSymmetric('reg-v2-sn1');
    expect(retirementOf(earlier)).toBe('due');
    // reg-v2-sn1 travels in the first bundle's wake: only SN2's X.509 enrollment is new.
    line.db
      .prepare(`UPDATE enrollments SET status = 'synced' WHERE registration_id = 'reg-v2-sn1'`)
      .run();
    const sn2 = line.provision('SN2');

    // A CA that cannot be read is no refusal: the export stops on it.
    const unreadable = () =>
      Promise.reject(Object.assign(new Error('no CA here'), { code: 'CA_NOT_INITIALISED' }));
    await expect(exportWith(unreadable)).rejects.toMatchObject({ code: 'CA_NOT_INITIALISED' });

    const summary = await exportWith(refused);
    const bundle = await openBundle(summary.file);
    expect(bundle.enrollments.map((e) => e.id)).toEqual([sn2]);
    expect(bundle.retirements ?? []).toEqual([]);
    expect(summary).toMatchObject({
      enrollments: 1,
      retirements: 0,
      retirementsLeft: 1,
      secretsRefused: 'the passphrase is wrong [CUSTODY_WRONG_PASSPHRASE]',
    });
    expect(retirementOf(earlier)).toBe('due');

    // With nothing else to carry, the refusal is the answer: no bundle.
    line.db.prepare(`UPDATE enrollments SET status = 'synced' WHERE id = ?`).run(sn2);
    await expect(exportWith(refused)).rejects.toMatchObject({ code: 'CUSTODY_WRONG_PASSPHRASE' });
    // Given, the passphrase carries it.
    const carried = await exportWith();
    expect((await openBundle(carried.file)).retirements?.map((r) => r.id)).toEqual([earlier]);

    // Beside an X.509 one due too, a bundle of retirements alone carries that one.
    const x509 = line.provision('SN3', { registrationId: 'reg-sn3' });
    line.db.prepare(`UPDATE enrollments SET attempts = 1 WHERE id = ?`).run(x509);
    line.provision('SN3', { registrationId: 'reg-v2-sn3' });
    line.db.prepare(`UPDATE enrollments SET status = 'synced' WHERE status = 'pending'`).run();
    const alone = await exportWith(refused);
    expect((await openBundle(alone.file)).retirements?.map((r) => r.id)).toEqual([x509]);
    expect(alone).toMatchObject({ enrollments: 0, retirements: 1, retirementsLeft: 1 });
  });

  it('keeps a group member out of the bundle while the deletion it waits for stays out', async () => {
    const earlier = await provisionSymmetric('reg-sn1');
    await exportWith();
    const member = line.provisionGroupMember('SN1', 'gadgets');
    expect(retirementOf(earlier)).toBe('due');
    const sn2 = line.provision('SN2');

    const summary = await exportWith(refused);
    expect((await openBundle(summary.file)).enrollments.map((e) => e.id)).toEqual([sn2]);
    expect(summary).toMatchObject({ retirementsLeft: 1, membersWaiting: 1, left: 0 });
    expect(line.row(member).status).toBe('pending');

    // With the passphrase, the member goes with the deletion of what keeps it out of DPS.
    const next = await exportWith();
    const bundle = await openBundle(next.file);
    expect(bundle.enrollments.map((e) => e.id)).toEqual([member]);
    expect(bundle.retirements).toMatchObject([{ id: earlier, heldByGroup: true }]);
    expect(next).toMatchObject({ retirementsLeft: 0, membersWaiting: 0 });
  });

  it('carries first the deletions group members wait for when more are due than a bundle takes', async () => {
    // More old IDs to disable than one bundle carries, all sent once (DPS may hold them).
    for (let i = 0; i < MAX_BUNDLE_RETIREMENTS; i++) {
      line.provision(`OLD${i}`, { registrationId: `reg-old-${i}` });
    }
    line.db.prepare(`UPDATE enrollments SET attempts = 1`).run();
    for (let i = 0; i < MAX_BUNDLE_RETIREMENTS; i++) {
      line.provision(`OLD${i}`, { registrationId: `reg-new-${i}` });
    }
    // The newest due row is the one a group member waits for.
    const earlier = await provisionSymmetric('reg-sn1');
    await exportWith();
    const member = line.provisionGroupMember('SN1', 'gadgets');
    expect(
      line.db.prepare(`SELECT count(*) FROM enrollments WHERE retirement = 'due'`).pluck().get(),
    ).toBe(MAX_BUNDLE_RETIREMENTS + 1);

    const summary = await exportWith();
    const bundle = await openBundle(summary.file);
    expect(bundle.retirements).toHaveLength(MAX_BUNDLE_RETIREMENTS);
    expect(bundle.retirements?.[0]).toMatchObject({ id: earlier, heldByGroup: true });
    expect(bundle.enrollments.map((e) => e.id)).toContain(member);
    expect(summary).toMatchObject({ retirementsLeft: 1, membersWaiting: 0 });
  });
});
