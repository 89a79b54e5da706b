import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../stationDatabase.js';
import { migration001Certificates } from './001_certificates.js';

describe('migration 001: certificates', () => {
  it('creates the certificates table with its constraints', () => {
    const db = new Database(':memory:');
    migrate(db, [migration001Certificates]);
    const insert = db.prepare(`INSERT INTO certificates (serial_number, registration_id, subject,
      fingerprint_sha256, not_before, not_after, profile, key_source, certificate_der, issued_at, status)
      VALUES (?, 'r', 'CN=r', ?, 'a', 'b', 'p', ?, x'30', 't', ?)`);
    insert.run('01', 'f1', 'device', 'issued');
    expect(() => insert.run('01', 'f2', 'device', 'issued')).toThrow(/UNIQUE/);
    expect(() => insert.run('02', 'f1', 'device', 'issued')).toThrow(/UNIQUE/);
    expect(() => insert.run('03', 'f3', 'factory', 'issued')).toThrow(/CHECK/);
    expect(() => insert.run('04', 'f4', 'device', 'lost')).toThrow(/CHECK/);
    db.close();
  });
});
