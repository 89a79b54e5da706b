/**
 * Which superseded enrollments a commit marks for retirement in DPS, and which it takes back
 * out: the store's real commit on a real SQLite file (SyncTestStation).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncTestStation } from '../sync/testing/syncTestStation.js';

let station: SyncTestStation;
beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

/** A PASS of device SN1 under `registrationId`, marked sent (DPS may hold it) if `sent`. */
function pass(registrationId: string, sent: boolean): number {
  const id = station.provision('SN1', { registrationId });
  if (sent) station.db.prepare(`UPDATE enrollments SET attempts = 1 WHERE id = ?`).run(id);
  return id;
}

const retirementOf = (id: number): unknown =>
  station.db.prepare(`SELECT retirement FROM enrollments WHERE id = ?`).pluck().get(id);

describe('retirement of superseded enrollments, as a commit decides it', () => {
  it('retires an ID the device left, once DPS may hold it', () => {
    const first = pass('line7-sn1', true);
    const second = pass('line7-v2-sn1', false);
    expect(retirementOf(first)).toBe('due');
    // Never sent: DPS cannot hold it.
    pass('line7-v3-sn1', false);
    expect(retirementOf(second)).toBeNull();
  });

  it('retires every row of the ID left, not only the one superseded last', () => {
    // Sent, then provisioned again under the same ID (never sent), then under another ID: the
    // first enrollment is the one DPS holds under the old ID.
    const first = pass('line7-sn1', true);
    const second = pass('line7-sn1', false);
    expect(retirementOf(first)).toBeNull();
    pass('line7-v2-sn1', false);
    expect(retirementOf(first)).toBe('due');
    expect(retirementOf(second)).toBeNull();
  });

  it('takes an ID back out of retirement when a device comes back to it', () => {
    // A TPM's endorsement key stays the chip's: retiring the old enrollment after the device
    // came back to its ID would disable the enrollment it registers with.
    const first = pass('line7-sn1', true);
    pass('line7-v2-sn1', false);
    expect(retirementOf(first)).toBe('due');
    pass('line7-sn1', false);
    expect(retirementOf(first)).toBeNull();
  });

  it('retires an individual enrollment whose ID a group member took, as long as the member is live', () => {
    // An individual enrollment under a member's ID takes precedence over the group in DPS.
    const first = pass('reg-sn1', true);
    const member = station.provisionGroupMember('SN1', 'gadgets');
    expect(station.row(member).registrationId).toBe('reg-sn1');
    expect(retirementOf(first)).toBe('due');
    // Disabled meanwhile, then the member provisioned again: disabled blocks it all the same.
    station.db
      .prepare(`UPDATE enrollments SET retirement = 'disabled', retired_at = ? WHERE id = ?`)
      .run(new Date().toISOString(), first);
    station.provisionGroupMember('SN1', 'gadgets');
    expect(retirementOf(first)).toBe('due');
    // Back to an individual enrollment under the ID: its own sync owns DPS's record again.
    pass('reg-sn1', false);
    expect(retirementOf(first)).toBeNull();
  });

  it('never retires a group member: its group holds it in DPS', () => {
    const member = station.provisionGroupMember('G1', 'gadgets');
    station.db.prepare(`UPDATE enrollments SET attempts = 1 WHERE id = ?`).run(member);
    station.provision('G1', {
      registrationId: 'reg-g1-v2',
      attestation: 'symmetric-key-group',
      certificateSerial: undefined,
      enrollment: { registrationId: 'reg-g1-v2', enrollmentGroupId: 'gadgets' },
    });
    expect(station.row(member).status).toBe('superseded');
    expect(retirementOf(member)).toBeNull();
  });
});
