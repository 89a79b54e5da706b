import { describe, expect, it } from 'vitest';
import type { IssuanceRecord } from '../../certs/caSigner.js';
import { CertificateLedger } from './certificateLedger.js';
import { openStationDatabase } from './stationDatabase.js';

function record(serial: string, registrationId = 'dev-1'): IssuanceRecord {
  return {
    serialNumber: serial,
    subject: `CN=${registrationId}`,
    registrationId,
    fingerprintSha256: `fp-${serial}`,
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2029-01-01T00:00:00Z'),
    profile: 'default',
    keySource: 'device',
    certificateDer: new Uint8Array([0x30, 0x00]),
  };
}

describe('CertificateLedger', () => {
  it('records once per serial number and lists by registration ID', () => {
    const ledger = new CertificateLedger(openStationDatabase(':memory:'));
    expect(ledger.record(record('0a'))).toBe(true);
    expect(ledger.record(record('0a'))).toBe(false);
    expect(ledger.record(record('0b', 'dev-2'))).toBe(true);
    expect(ledger.list({ registrationId: 'dev-2' }).map((r) => r.serialNumber)).toEqual(['0b']);
    expect(ledger.get('0a')).toMatchObject({
      status: 'issued',
      keySource: 'device',
      notAfter: '2029-01-01T00:00:00.000Z',
    });
    expect([...ledger.certificateDer('0a')!]).toEqual([0x30, 0x00]);
  });

  it('settles an issued certificate once, and revokes with a reason', () => {
    const ledger = new CertificateLedger(openStationDatabase(':memory:'));
    ledger.recordMany([record('01'), record('02')]);
    expect(ledger.settle('01', 'committed')).toBe(true);
    expect(ledger.settle('01', 'abandoned')).toBe(false);
    expect(ledger.settle('02', 'abandoned')).toBe(true);
    expect(ledger.revoke('01', 'device returned')).toBe(true);
    expect(ledger.revoke('01', 'again')).toBe(false);
    expect(ledger.revoke('ff', 'unknown')).toBe(false);
    expect(ledger.get('01')).toMatchObject({
      status: 'revoked',
      revocationReason: 'device returned',
    });
    expect(ledger.list({ status: 'abandoned' }).map((r) => r.serialNumber)).toEqual(['02']);
  });
});
