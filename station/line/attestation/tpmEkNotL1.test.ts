/**
 * A TPM whose RSA endorsement key is not the standard one (template L-1 at 0x81010001, which
 * the DPS device SDKs read and hash) would be enrolled under a key and registration ID the
 * device never presents. The run refuses it, RUN_EK_NOT_L1, before anything is written; the L-1
 * EK passes. Real parts: simulated boards on ptys carrying EKs with a TPM maker's certificate.
 */
import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTpmVendor, type TpmVendor } from '../../../certs/testing/tpmVendorKit.js';
import {
  ekTemplateFields,
  marshalTpm2bPublic,
  type TpmPublicFields,
} from '../../../certs/testing/tpmPublicWriter.js';
import { TPM_ALG, TPMA_OBJECT } from '../../../certs/tpm/tpmAlgorithms.js';
import {
  InMemoryRunRecorder,
  oneSimulatedDevicePerTest,
  runOn,
  testProfile,
  testServices,
} from '../testing/lineTestKit.js';

let vendor: TpmVendor;
const startBoard = oneSimulatedDevicePerTest();
beforeAll(async () => {
  vendor = await createTpmVendor({ name: 'TEST TPM Vendor' });
});

/** A run on a board whose TPM holds the EK `change` makes of the L-1 template. */
async function runWithEk(change: (fields: TpmPublicFields) => void, bits = 2048) {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const fields = structuredClone(ekTemplateFields(publicKey));
  change(fields);
  const tpm = {
    ekPublic: marshalTpm2bPublic(fields),
    ekCertificate: vendor.issueEkCertificate(publicKey.export({ format: 'der', type: 'spki' })),
  };
  const board = await startBoard({ tpm: () => tpm });
  const writes: string[] = [];
  board.onRequest.on(({ name }) => name !== 'INFO' && name !== 'GET_EK' && writes.push(name));
  const profile = testProfile({ attestation: { mode: 'tpm' } });
  const services = await testServices(profile, { ekTrust: vendor.trust() });
  const outcome = await runOn(board, { profile, recorder: new InMemoryRunRecorder(), services });
  return { outcome, writes };
}

describe('TPM mode: an RSA endorsement key that is not template L-1', () => {
  it.each([
    ['3072-bit', (): void => undefined, 3072],
    [
      'SHA-384 name algorithm',
      (f: TpmPublicFields): void => void (f.nameAlg = TPM_ALG.SHA384),
      2048,
    ],
    ['AES-256', (f: TpmPublicFields): void => void (f.symmetric.keyBits = 256), 2048],
    [
      'userWithAuth',
      (f: TpmPublicFields): void => void (f.objectAttributes |= TPMA_OBJECT.userWithAuth),
      2048,
    ],
    [
      'another policy',
      (f: TpmPublicFields): void => void (f.authPolicy = Buffer.alloc(32, 1)),
      2048,
    ],
  ] as const)('%s: fails RUN_EK_NOT_L1 with nothing written', async (_, change, bits) => {
    const { outcome, writes } = await runWithEk(change, bits);
    expect(outcome.state).toBe('fail');
    if (outcome.state !== 'fail') throw new Error(`expected a failed run, got ${outcome.state}`);
    expect(outcome.error.code).toBe('RUN_EK_NOT_L1');
    expect(writes).toEqual([]);
  });

  it('the L-1 EK passes', async () => {
    const { outcome, writes } = await runWithEk(() => undefined);
    expect(outcome.state).toBe('pass');
    expect(writes).toContain('COMMIT');
  });
});
