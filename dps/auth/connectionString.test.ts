import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DpsError } from '../dpsErrors.js';
import { formatConnectionString, parseConnectionString } from './connectionString.js';

// Ends in '=' padding, which the parser must keep.
const KEY = randomBytes(32).toString('base64');
const HOST = 'line-dps.azure-devices-provisioning.net';

/** The DpsError thrown by parsing `text`; fails the test if it parses. */
function refusal(text: string): DpsError {
  try {
    parseConnectionString(text);
  } catch (err) {
    expect(err).toBeInstanceOf(DpsError);
    return err as DpsError;
  }
  throw new Error('parsed, but should not have');
}

describe('parseConnectionString', () => {
  it('reads the three fields and keeps the key padding', () => {
    expect(KEY.endsWith('=')).toBe(true);
    const text = `HostName=${HOST};SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=${KEY}`;
    expect(parseConnectionString(text)).toEqual({
      hostName: HOST,
      sharedAccessKeyName: 'provisioningserviceowner',
      sharedAccessKey: KEY,
    });
  });

  it('takes fields in any order, names in any case, spaces and a trailing ;', () => {
    const text = ` sharedaccesskey=${KEY}; HOSTNAME = 127.0.0.1:8443 ;SharedAccessKeyName=owner; `;
    expect(parseConnectionString(text)).toEqual({
      hostName: '127.0.0.1:8443',
      sharedAccessKeyName: 'owner',
      sharedAccessKey: KEY,
    });
  });

  it('round-trips through formatConnectionString', () => {
    const cs = { hostName: HOST, sharedAccessKeyName: 'owner', sharedAccessKey: KEY };
    expect(parseConnectionString(formatConnectionString(cs))).toEqual(cs);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['missing HostName', `SharedAccessKeyName=owner;SharedAccessKey=${KEY}`, /HostName is missing/],
    [
      'bad HostName',
      `HostName=https://x/y;SharedAccessKeyName=owner;SharedAccessKey=${KEY}`,
      /HostName/,
    ],
    [
      'missing key name',
      `HostName=${HOST};SharedAccessKey=${KEY}`,
      /SharedAccessKeyName is missing/,
    ],
    ['missing key', `HostName=${HOST};SharedAccessKeyName=owner`, /SharedAccessKey is missing/],
    [
      'empty key',
      `HostName=${HOST};SharedAccessKeyName=owner;SharedAccessKey=`,
      /SharedAccessKey is missing/,
    ],
    [
      'key not base64',
      `HostName=${HOST};SharedAccessKeyName=owner;SharedAccessKey=${KEY}!`,
      /not base64/,
    ],
    [
      'key badly padded',
      `HostName=${HOST};SharedAccessKeyName=owner;SharedAccessKey=${KEY.slice(1)}`,
      /not base64/,
    ],
    ['a field without =', `HostName=${HOST};garbage;SharedAccessKey=${KEY}`, /Name=value/],
    ['empty text', '', /HostName is missing/],
  ];

  it.each(bad)(
    'refuses %s with DPS_CONNECTION_STRING_INVALID, never echoing the key',
    (_, text, why) => {
      const err = refusal(text);
      expect(err.code).toBe('DPS_CONNECTION_STRING_INVALID');
      expect(err.detail).toMatch(why);
      const shown = JSON.stringify({ message: err.message, detail: err.detail, stack: err.stack });
      expect(shown).not.toContain(KEY.slice(0, 12));
    },
  );
});

describe('parseConnectionString, for what a supervisor pastes', () => {
  const dps = `HostName=${HOST};SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=${KEY}`;
  const parsed = {
    hostName: HOST,
    sharedAccessKeyName: 'provisioningserviceowner',
    sharedAccessKey: KEY,
  };

  // Copied from a shell line or a JSON file, the quotes came along and read as "HostName is
  // missing".
  it.each([
    ['double quotes', `"${dps}"`],
    ['single quotes', `'${dps}'`],
    ['quotes and whitespace', `  "  ${dps} "\n`],
  ])('takes a string inside %s', (_, text) => {
    expect(parseConnectionString(text)).toEqual(parsed);
  });

  it('strips one pair of matching quotes only', () => {
    expect(refusal(`"${dps}'`).detail).toMatch(/HostName is missing/);
    expect(refusal(`""${dps}""`).detail).toMatch(/HostName is missing/);
  });

  // The hub's string has the same three fields; DPS then refused every call, or set-connection
  // said it was sealed and the first sync failed far from the cause.
  it.each([
    'myhub.azure-devices.net',
    'MyHub.Azure-Devices.NET',
    'myhub.azure-devices.cn',
    'myhub.azure-devices.us',
    'myhub.azure-devices.de',
    'myhub.azure-devices.net:443',
  ])('refuses the IoT hub host %s with its own code and where to find DPS’s', (host) => {
    const err = refusal(`HostName=${host};SharedAccessKeyName=iothubowner;SharedAccessKey=${KEY}`);
    expect(err.code).toBe('DPS_CONNECTION_STRING_IOT_HUB');
    expect(err.message).toMatch(/IoT hub's connection string/);
    expect(err.message).toMatch(/DPS resource[^]*Shared access policies/);
    expect(err.detail).toContain(host);
    expect(JSON.stringify({ m: err.message, d: err.detail })).not.toContain(KEY.slice(0, 12));
  });

  it.each([
    'line-dps.azure-devices-provisioning.net',
    'line-dps.azure-devices-provisioning.cn',
    'line-dps.azure-devices-provisioning.us',
    '127.0.0.1:8443',
    'localhost:8443',
    'dps.factory.example',
    'azure-devices.net.example.com',
  ])('keeps DPS, loopback and other hosts: %s', (host) => {
    const text = `HostName=${host};SharedAccessKeyName=owner;SharedAccessKey=${KEY}`;
    expect(parseConnectionString(text).hostName).toBe(host);
  });
});
