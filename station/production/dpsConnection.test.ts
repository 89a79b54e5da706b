import { afterEach, describe, expect, it } from 'vitest';
import { DPS_CA_ENV, extraDpsTrust } from './dpsConnection.js';

const before = process.env[DPS_CA_ENV];
afterEach(() => {
  if (before === undefined) delete process.env[DPS_CA_ENV];
  else process.env[DPS_CA_ENV] = before;
});

describe('the extra DPS trust anchor', () => {
  it('is refused with a code and what to do when its file cannot be read', () => {
    process.env[DPS_CA_ENV] = '/nonexistent/dps-ca.pem';
    expect(() => extraDpsTrust()).toThrow(
      expect.objectContaining({
        code: 'STATION_NOT_CONFIGURED',
        message: `${DPS_CA_ENV} names /nonexistent/dps-ca.pem, which cannot be read: point it at the PEM file of the CA that DPS's TLS certificate chains to, or unset it`,
        detail: expect.stringContaining('ENOENT') as string,
      }) as Error,
    );
  });

  it('is none when the variable is unset or empty', () => {
    delete process.env[DPS_CA_ENV];
    expect(extraDpsTrust()).toBeUndefined();
    process.env[DPS_CA_ENV] = '';
    expect(extraDpsTrust()).toBeUndefined();
  });
});
