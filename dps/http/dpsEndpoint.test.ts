import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { parseDpsEndpoint, trustAnchors } from './dpsEndpoint.js';

describe('parseDpsEndpoint', () => {
  it('defaults to 443 and sends SNI for DNS names', () => {
    expect(parseDpsEndpoint('line.azure-devices-provisioning.net')).toEqual({
      host: 'line.azure-devices-provisioning.net',
      port: 443,
      servername: 'line.azure-devices-provisioning.net',
    });
    expect(parseDpsEndpoint('localhost:8443')).toEqual({
      host: 'localhost',
      port: 8443,
      servername: 'localhost',
    });
  });

  it('splits a port off an IP literal and sends no SNI for it', () => {
    expect(parseDpsEndpoint('127.0.0.1:8443')).toEqual({ host: '127.0.0.1', port: 8443 });
    expect(parseDpsEndpoint('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
  });

  it('refuses what is not host[:port]', () => {
    for (const text of ['', 'https://x', 'x:', 'x:0', 'x:70000', 'a b', 'x/y', '::1']) {
      expect(() => parseDpsEndpoint(text), text).toThrow(RangeError);
    }
  });
});

describe('trustAnchors', () => {
  it('adds an extra CA to the public roots instead of replacing them', () => {
    expect(trustAnchors(undefined)).toBeUndefined();
    const anchors = trustAnchors('-----BEGIN CERTIFICATE-----\nextra\n-----END CERTIFICATE-----\n');
    expect(anchors).toHaveLength(rootCertificates.length + 1);
    expect(anchors?.at(-1)).toContain('extra');
  });
});
