import { describe, expect, it } from 'vitest';
import { revocationLines } from './caRevokeText.js';

describe('what ca revoke says it did with the enrollment', () => {
  it('says a synced one is disabled by the sync or a bundle, and where to watch for it', () => {
    const said = revocationLines(
      { id: 7, status: 'synced', action: 'disabling' },
      'line7-sn1',
      '/srv/line7',
    ).join('\n');
    expect(said).toContain('Its enrollment (outbox row 7) was synced: the sync disables it in DPS');
    expect(said).toContain(
      '`station audit --kind enrollment.revocation-disabled --data-dir /srv/line7` shows when',
    );
    expect(said).toContain('Until then the device can still register.');
    expect(said).toContain('the next `station bundle export` carries the disable');
    expect(said).toContain('changes nothing in an IoT hub');
  });

  it('says a row sent before is withheld and, if in DPS, disabled', () => {
    const said = revocationLines(
      { id: 3, status: 'failed', action: 'withheld-disabling' },
      'line7-sn2',
      '/srv/line7',
    ).join('\n');
    expect(said).toContain('was failed: it is now withheld (failed, SYNC_CERTIFICATE_REVOKED)');
    expect(said).toContain(`the sync disables DPS's record of "line7-sn2"`);
  });

  it('sends a re-provisioned device to its later certificate', () => {
    const said = revocationLines(
      { id: 2, status: 'superseded', action: 'superseded' },
      'line7-sn3',
      '/srv/line7',
    ).join('\n');
    expect(said).toContain('revoke its later certificate too');
  });
});
