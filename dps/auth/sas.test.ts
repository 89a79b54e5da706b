import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createSasToken,
  deriveDeviceKey,
  deviceRegistrationSasToken,
  parseSasToken,
  sasResource,
  sasSignatureMatches,
  serviceSasToken,
  type SasFields,
} from './sas.js';

const KEY = randomBytes(32).toString('base64');
const SE = 1_900_000_000;

/** base64(HMAC-SHA256(key, data)) computed by the openssl CLI: an implementation not ours. */
function opensslHmac(keyBase64: string, data: string): string {
  const hexKey = Buffer.from(keyBase64, 'base64').toString('hex');
  const mac = execFileSync(
    'openssl',
    ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${hexKey}`, '-binary'],
    { input: data },
  );
  return mac.toString('base64');
}

function parsed(token: string): SasFields {
  const fields = parseSasToken(token);
  if (fields === undefined) throw new Error(`not a SAS token: ${token}`);
  return fields;
}

describe('SAS tokens', () => {
  it('service token: sr is the lower-cased, URL-encoded host, fields sr, sig, se, skn', () => {
    const token = serviceSasToken(
      'MyDps.azure-devices-provisioning.net',
      'provisioningserviceowner',
      KEY,
      SE,
    );
    expect(token).toMatch(
      /^SharedAccessSignature sr=mydps\.azure-devices-provisioning\.net&sig=[A-Za-z0-9%]+&se=1900000000&skn=provisioningserviceowner$/,
    );
    const fields = parsed(token);
    expect(Buffer.from(fields.sig, 'base64')).toHaveLength(32);
    expect(fields.sig).toBe(opensslHmac(KEY, `mydps.azure-devices-provisioning.net\n${SE}`));
    expect(sasSignatureMatches(fields, KEY)).toBe(true);
  });

  it('service token for a host with a port names and signs the host without it', () => {
    // DPS refuses `…net%3A443` as another resource: the port only says where to connect.
    const fields = parsed(
      serviceSasToken('MyDps.azure-devices-provisioning.net:443', 'owner', KEY, SE),
    );
    expect(fields.sr).toBe('mydps.azure-devices-provisioning.net');
    expect(fields.sig).toBe(opensslHmac(KEY, `mydps.azure-devices-provisioning.net\n${SE}`));
    expect(sasResource(parsed(serviceSasToken('127.0.0.1:8443', 'owner', KEY, SE)))).toBe(
      '127.0.0.1',
    );
  });

  it('device token: encoded sr, skn=registration, verifies', () => {
    const fields = parsed(deviceRegistrationSasToken('0ne000A1B2C', 'dev-01', KEY, SE));
    expect(fields).toMatchObject({
      sr: '0ne000A1B2C%2Fregistrations%2Fdev-01',
      skn: 'registration',
      se: SE,
    });
    expect(fields.sig).toBe(opensslHmac(KEY, `0ne000A1B2C%2Fregistrations%2Fdev-01\n${SE}`));
    expect(sasSignatureMatches(fields, KEY)).toBe(true);
    expect(sasResource(fields)).toBe('0ne000a1b2c/registrations/dev-01');
  });

  it('an unencoded sr (as the Node device SDK sends it) verifies too', () => {
    const token = createSasToken({
      resource: '0ne000A1B2C/registrations/dev-01',
      keyBase64: KEY,
      policyName: 'registration',
      expiresAt: SE,
    });
    const fields = parsed(token);
    expect(fields.sr).toBe('0ne000A1B2C/registrations/dev-01');
    expect(fields.sig).toBe(opensslHmac(KEY, `0ne000A1B2C/registrations/dev-01\n${SE}`));
    expect(sasSignatureMatches(fields, KEY)).toBe(true);
  });

  it('field order does not matter', () => {
    const token = deviceRegistrationSasToken('0ne000A1B2C', 'dev-01', KEY, SE);
    const parts = token.slice('SharedAccessSignature '.length).split('&');
    const reordered = `SharedAccessSignature ${[...parts].reverse().join('&')}`;
    expect(reordered).not.toBe(token);
    expect(parsed(reordered)).toEqual(parsed(token));
    expect(sasSignatureMatches(parsed(reordered), KEY)).toBe(true);
  });

  it('a tampered signature, expiry or resource, or another key, fails', () => {
    const fields = parsed(deviceRegistrationSasToken('0ne000A1B2C', 'dev-01', KEY, SE));
    const sig = Buffer.from(fields.sig, 'base64');
    sig[0] = (sig[0] ?? 0) ^ 1;
    expect(sasSignatureMatches({ ...fields, sig: sig.toString('base64') }, KEY)).toBe(false);
    expect(sasSignatureMatches({ ...fields, se: SE + 1 }, KEY)).toBe(false);
    expect(sasSignatureMatches({ ...fields, sr: fields.sr.replace('dev-01', 'dev-02') }, KEY)).toBe(
      false,
    );
    expect(sasSignatureMatches(fields, randomBytes(32).toString('base64'))).toBe(false);
    expect(sasSignatureMatches({ ...fields, sig: 'short' }, KEY)).toBe(false);
  });

  it('refuses what is not a complete token', () => {
    expect(parseSasToken('Bearer abc')).toBeUndefined();
    expect(parseSasToken('SharedAccessSignature sr=a&sig=b&se=1')).toBeUndefined();
    expect(parseSasToken('SharedAccessSignature sr=a&sig=b&se=soon&skn=x')).toBeUndefined();
    expect(parseSasToken('SharedAccessSignature sr=a&sig=%E0%A4%A&se=1&skn=x')).toBeUndefined();
  });
});

describe('deriveDeviceKey', () => {
  it('matches the published DPS example', () => {
    // Learn: "How to provision devices using symmetric key enrollment groups" (legacy devices).
    const groupKey =
      '8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==';
    expect(deriveDeviceKey(groupKey, 'sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6')).toBe(
      'Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=',
    );
  });

  it('matches openssl for a random group key', () => {
    const groupKey = randomBytes(64).toString('base64');
    expect(deriveDeviceKey(groupKey, 'line-7-dev-0042')).toBe(
      opensslHmac(groupKey, 'line-7-dev-0042'),
    );
    expect(deriveDeviceKey(groupKey, 'line-7-dev-0043')).not.toBe(
      deriveDeviceKey(groupKey, 'line-7-dev-0042'),
    );
  });
});
