import { X509Certificate } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initStationCa } from './ca/initStationCa.js';
import type { IssuanceLedger, IssuanceRecord, IssuedCertificateSummary } from './caSigner.js';
import { CertError } from './certErrors.js';
import { PassphraseKeyWrapper } from './custody/passphraseKeyWrapper.js';
import { DEFAULT_LEAF_PROFILE } from './leafProfile.js';
import { StationCa } from './stationCa.js';
import { buildCsr } from './csr/buildCsr.js';
import { testPrivateKey } from './fixtures/testKeys.js';

/** A ledger that keeps records in memory and can be told to report every serial as taken. */
class MemoryLedger implements IssuanceLedger {
  readonly records: IssuanceRecord[] = [];
  refuseAll = false;
  record(entry: IssuanceRecord): boolean {
    if (this.refuseAll || this.records.some((r) => r.serialNumber === entry.serialNumber))
      return false;
    this.records.push(entry);
    return true;
  }
  list(): IssuedCertificateSummary[] {
    return [];
  }
  revoke(): boolean {
    return false;
  }
}

const wrapper = new PassphraseKeyWrapper('unit test passphrase', { scrypt: { N: 2 ** 10 } });
let caDir: string;

beforeAll(async () => {
  caDir = join(await mkdtemp(join(tmpdir(), 'ls-stationca-')), 'ca');
  await initStationCa(caDir, { name: 'Unit', wrapper });
});

async function unlocked(ledger: IssuanceLedger): Promise<StationCa> {
  const ca = await StationCa.open(caDir, ledger);
  await ca.unlock(wrapper);
  return ca;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CertError) return err.code;
    throw err;
  }
  throw new Error('expected a CertError');
}

describe('StationCa', () => {
  it("hands out each leaf's own public key, so the challenge needs no second decode", async () => {
    const ca = await unlocked(new MemoryLedger());
    const deviceKey = testPrivateKey('test-device-p256');
    const fromCsr = await ca.issueFromCsr(
      buildCsr({ privateKey: deviceKey, commonName: 'dev-key-1' }),
      { registrationId: 'dev-key-1' },
    );
    const stationMade = await ca.issueWithStationKey({ registrationId: 'dev-key-2' });
    for (const issued of [fromCsr, stationMade]) {
      const inLeaf = new X509Certificate(issued.certificateDer).publicKey;
      expect(issued.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
        inLeaf.export({ type: 'spki', format: 'der' }),
      );
    }
  });

  it('releases nothing when the ledger reports the serial number as already issued', async () => {
    const ledger = new MemoryLedger();
    ledger.refuseAll = true;
    const ca = await unlocked(ledger);
    expect(await codeOf(ca.issueWithStationKey({ registrationId: 'dev-1' }))).toBe(
      'CA_SERIAL_REUSED',
    );
  });

  it('records every issuance with what the store needs', async () => {
    const ledger = new MemoryLedger();
    const ca = await unlocked(ledger);
    const issued = await ca.issueWithStationKey({ registrationId: 'dev-2', curve: 'P-384' });
    expect(ledger.records).toHaveLength(1);
    expect(ledger.records[0]).toMatchObject({
      serialNumber: issued.serialNumber,
      subject: 'CN=dev-2',
      fingerprintSha256: issued.fingerprintSha256,
      profile: 'default',
      keySource: 'station',
    });
    expect(issued.serialNumber).toMatch(/^[0-7][0-9a-f]{31}$/);
    expect(issued.notAfter.getTime()).toBeLessThanOrEqual(ca.status().notAfter.getTime());
  });

  it('refuses station keys the profile does not allow, and invalid registration IDs', async () => {
    const ca = await unlocked(new MemoryLedger());
    const p384Only = {
      ...DEFAULT_LEAF_PROFILE,
      name: 'p384',
      allowedKeys: [{ kty: 'EC', curve: 'P-384' } as const],
    };
    expect(
      await codeOf(ca.issueWithStationKey({ registrationId: 'dev-3', profile: p384Only })),
    ).toBe('CSR_KEY_NOT_ALLOWED');
    expect(await codeOf(ca.issueWithStationKey({ registrationId: 'Dev_3!' }))).toBe(
      'CSR_REGISTRATION_ID_INVALID',
    );
  });
});
