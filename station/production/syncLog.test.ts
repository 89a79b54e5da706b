import { describe, expect, it } from 'vitest';
import { syncLogLine } from './syncLog.js';

const untrusted = {
  code: 'DPS_TLS_UNTRUSTED',
  message: "The DPS server's certificate is not trusted for its host name, so nothing was sent.",
  detail:
    'DPS_TLS_UNTRUSTED, GET /enrollments/x-1: UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate',
};

describe('syncLogLine', () => {
  it('keeps the start and every batch out of the log', () => {
    expect(syncLogLine({ previous: 'stopped', state: 'idle' }, undefined)).toBeUndefined();
    expect(syncLogLine({ previous: 'idle', state: 'syncing' }, undefined)).toBeUndefined();
    expect(syncLogLine({ previous: 'syncing', state: 'idle' }, undefined)).toBeUndefined();
    expect(syncLogLine({ previous: 'idle', state: 'stopped' }, undefined)).toBe(
      'DPS sync: idle -> stopped',
    );
  });

  it('says why the line went offline, with the detail for the log', () => {
    const refused = {
      code: 'DPS_UNREACHABLE',
      message: 'DPS cannot be reached.',
      detail: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:18443',
    };
    const line = syncLogLine({ previous: 'syncing', state: 'offline' }, refused);
    expect(line).toContain(
      'DPS sync: syncing -> offline: DPS cannot be reached. [DPS_UNREACHABLE]',
    );
    expect(line).toContain('detail: ECONNREFUSED');
    expect(line).not.toContain('LINE_STATION_DPS_CA');
  });

  // A supervisor who pointed the line at the emulator without its CA saw only "offline".
  it('names LINE_STATION_DPS_CA when the DPS certificate is not trusted', () => {
    const line = syncLogLine({ previous: 'syncing', state: 'backoff' }, untrusted);
    expect(line).toContain('[DPS_TLS_UNTRUSTED]');
    expect(line).toContain('LINE_STATION_DPS_CA');
  });
});
