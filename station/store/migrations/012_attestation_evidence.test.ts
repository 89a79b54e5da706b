import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PassedRunRecord } from '../../line/lineTypes.js';
import { PASS_OF_ENDORSEMENT_KEY_ELSEWHERE_SQL } from '../provisioningStatements.js';
import { ProvisioningStore } from '../provisioningStore.js';
import { openStationDatabase } from '../stationDatabase.js';
import { StoreError } from '../storeError.js';
import {
  expectLatestSchema,
  olderDatabaseWithOneFailedRun,
  useMigrationTestFile,
} from '../testing/migrationTestFile.js';
import { passedRun } from '../testing/provisioningFixtures.js';

const databaseFile = useMigrationTestFile('migration-012-');

const EK = Buffer.from('a TPM2B_PUBLIC').toString('base64');
const EK_SHA256 = createHash('sha256').update(Buffer.from(EK, 'base64')).digest('hex');

/** A TPM PASS as the tpm attestor records it: no certificate, the EK and its checks as evidence. */
function tpmPass(runId: number, serial: string, evidence?: PassedRunRecord['evidence']) {
  const registrationId = `tpm-${serial.toLowerCase()}`;
  const { certificateSerial: _none, ...record } = passedRun(runId, serial, {
    registrationId,
    attestation: 'tpm',
    enrollment: { registrationId, attestation: { type: 'tpm', tpm: { endorsementKey: EK } } },
    ...(evidence !== undefined && { evidence }),
  });
  return record;
}

describe('migration 012: attestation evidence with each run', () => {
  it('keeps old runs without evidence, stores a TPM run with its EK checks, refuses one without', () => {
    olderDatabaseWithOneFailedRun(databaseFile(), 11);

    const db = openStationDatabase(databaseFile());
    expectLatestSchema(db);
    const store = new ProvisioningStore(db);
    const evidence = {
      endorsement: {
        ekSha256: EK_SHA256,
        ekType: 'rsa' as const,
        certificate: {
          chain: ['EK certificate', 'DEMO TPM Intermediate', 'DEMO TPM Root'],
          vendorRoot: 'DEMO TPM Root',
          certificateSha256: 'cd'.repeat(32),
        },
        notes: [],
      },
    };
    const run = store.beginRun('/dev/ttyUSB0', 'tpm line', Date.now());
    store.commitPass(tpmPass(run, 'SN1', evidence));
    const unchecked = store.beginRun('/dev/ttyUSB0', 'tpm line', Date.now());
    expect(() => store.commitPass(tpmPass(unchecked, 'SN2'))).toThrow(StoreError);
    // Evidence of another key than the one enrolled: refused, as an unchecked one is.
    const otherKey = { endorsement: { ...evidence.endorsement, ekSha256: 'ef'.repeat(32) } };
    let refused: unknown;
    try {
      store.commitPass(tpmPass(unchecked, 'SN2', otherKey));
    } catch (err) {
      refused = err;
    }
    expect(refused).toMatchObject({
      code: 'STORE_RECORD_INVALID',
      detail: expect.stringContaining('does not carry the endorsement key that was checked'),
    });

    const rows = db
      .prepare('SELECT id, state, attestation_evidence AS evidence FROM runs ORDER BY id')
      .all() as { id: number; state: string; evidence: string | null }[];
    expect(rows.map((r) => [r.id, r.state])).toEqual([
      [1, 'fail'],
      [run, 'pass'],
      [unchecked, 'running'],
    ]);
    expect(rows[0]!.evidence).toBeNull();
    expect(JSON.parse(rows[1]!.evidence!)).toEqual(evidence);
    expect(rows[2]!.evidence).toBeNull();
    expect(() =>
      db.prepare(`UPDATE runs SET attestation_evidence = 'not json' WHERE id = 1`).run(),
    ).toThrow(/CHECK constraint failed/);

    // The same EK on another device: found through the index, and refused at commit.
    const elsewhere = { ekSha256: EK_SHA256, serialNumber: 'SN3', model: 'LS-100' };
    expect(store.findEndorsementKeyElsewhere(elsewhere)).toMatchObject({
      runId: run,
      serialNumber: 'SN1',
    });
    expect(store.findEndorsementKeyElsewhere({ ...elsewhere, serialNumber: 'SN1' })).toBe(
      undefined,
    );
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${PASS_OF_ENDORSEMENT_KEY_ELSEWHERE_SQL}`)
      .all(EK_SHA256, 'SN3', 'LS-100') as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toContain('runs_by_endorsement_key');
    const copy = store.beginRun('/dev/ttyUSB1', 'tpm line', Date.now());
    let refusal: unknown;
    try {
      store.commitPass(tpmPass(copy, 'SN3', evidence));
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(StoreError);
    expect((refusal as StoreError).code).toBe('STORE_EK_ON_ANOTHER_DEVICE');
    expect(store.listOutbox().map((e) => e.registrationId)).toEqual(['tpm-sn1']);
    db.close();
  });
});
