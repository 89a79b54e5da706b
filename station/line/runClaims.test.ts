import { describe, expect, it } from 'vitest';
import { RunClaims } from './runClaims.js';
import { runErrorText } from './runErrors.js';

describe('RunClaims', () => {
  it('refuses an ID another slot holds, naming that slot, until its run releases it', () => {
    const claims = new RunClaims();
    const release = claims.claim(3, { registrationId: 'ls-demo-1-sim000001' });
    expect(() => claims.claim(1, { registrationId: 'ls-demo-1-sim000001' })).toThrow(
      expect.objectContaining({
        code: 'RUN_REGISTRATION_ID_ON_ANOTHER_SLOT',
        message:
          'Slot 3 is provisioning a device with this registration ID: two boards with the same serial? Set this one aside and check its label.',
      }),
    );
    release();
    expect(claims.size).toBe(0);
    claims.claim(1, { registrationId: 'ls-demo-1-sim000001' });
    expect(claims.size).toBe(1);
  });

  it('claims the ID and the EK all or nothing, and a release frees only its own claims', () => {
    const claims = new RunClaims();
    const first = claims.claim(1, { registrationId: 'a', ekSha256: 'ek' });
    expect(() => claims.claim(2, { registrationId: 'b', ekSha256: 'ek' })).toThrow(
      expect.objectContaining({
        code: 'RUN_EK_ON_ANOTHER_SLOT',
        message: runErrorText.RUN_EK_ON_ANOTHER_SLOT.replace('Another slot', 'Slot 1'),
      }),
    );
    // The EK is named even when the ID is taken too (an `{ek}` template makes one ID of it).
    expect(() => claims.claim(2, { registrationId: 'a', ekSha256: 'ek' })).toThrow(/TPM/);
    // The refused run holds nothing: 'b' is free.
    const other = claims.claim(2, { registrationId: 'b' });
    first();
    first();
    expect(() => claims.claim(3, { registrationId: 'b' })).toThrow(/^Slot 2 /);
    other();
    expect(claims.size).toBe(0);
  });
});
