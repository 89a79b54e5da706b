import { describe, expect, it } from 'vitest';
import {
  globalEndpointSchema,
  idScopeProblem,
  iotHubProblem,
  readGlobalEndpoint,
} from './dpsSettings.js';

describe('the DPS global endpoint', () => {
  it('takes a host, host:port, or an https URL of one (what the device is given is the host)', () => {
    expect(readGlobalEndpoint('global.azure-devices-provisioning.net')).toEqual({
      host: 'global.azure-devices-provisioning.net',
    });
    expect(readGlobalEndpoint('127.0.0.1:8443')).toEqual({ host: '127.0.0.1:8443' });
    expect(readGlobalEndpoint('https://global.azure-devices-provisioning.net/')).toEqual({
      host: 'global.azure-devices-provisioning.net',
    });
    expect(readGlobalEndpoint('https://global.azure-devices-provisioning.net')).toEqual({
      host: 'global.azure-devices-provisioning.net',
    });
    expect(readGlobalEndpoint('https://dps.plant.local:8443/')).toEqual({
      host: 'dps.plant.local:8443',
    });
    expect(globalEndpointSchema.parse('https://dps.plant.local/')).toBe('dps.plant.local');
  });

  it.each([
    [
      'https://global.azure-devices-provisioning.net/registrations',
      'global.azure-devices-provisioning.net',
    ],
    [
      'https://global.azure-devices-provisioning.net/?api-version=2021-06-01',
      'global.azure-devices-provisioning.net',
    ],
    ['https://user:pw@dps.plant.local/', 'dps.plant.local'],
    ['http://localhost:8443', 'localhost:8443'],
    [
      'mqtts://global.azure-devices-provisioning.net:8883',
      'global.azure-devices-provisioning.net:8883',
    ],
    ['global.azure-devices-provisioning.net/', 'global.azure-devices-provisioning.net'],
  ])('refuses the URL %s and shows the host name %s to write', (text, host) => {
    expect(readGlobalEndpoint(text)).toEqual({
      problem: `expected the host name only, not a URL: write "${host}"`,
    });
  });

  it.each(['localhost:0', 'localhost:65536'])(
    'refuses %s: no device can reach that port',
    (text) => {
      expect(readGlobalEndpoint(text)).toEqual({
        problem:
          'expected a host name for the DPS global endpoint, optionally with :port (such as global.azure-devices-provisioning.net)',
      });
    },
  );

  it('says what a host name is when the text is none', () => {
    expect(readGlobalEndpoint('not a host!')).toEqual({
      problem:
        'expected a host name for the DPS global endpoint, optionally with :port (such as global.azure-devices-provisioning.net)',
    });
  });
});

describe('the ID scope', () => {
  it('accepts 0ne and 8 hex digits in either case', () => {
    expect(idScopeProblem('0ne00AB12CD')).toBeUndefined();
    expect(idScopeProblem('0ne00ab12cd')).toBeUndefined();
  });

  it('says exactly what to write when only the case of "0ne" is wrong', () => {
    expect(idScopeProblem('0NE00AB12CD')).toBe(
      'expected "0ne" in lower case at the start: write "0ne00AB12CD" (the hex digits may be in either case)',
    );
    expect(idScopeProblem('0Ne00ab12cd')).toMatch(/write "0ne00ab12cd"/);
  });

  it('names a letter O typed for the zero, and spaces around the scope', () => {
    expect(idScopeProblem('ONE00AB12CD')).toBe(
      'starts with the letter O, not the digit 0 (zero): write "0ne00AB12CD"',
    );
    expect(idScopeProblem(' 0ne00AB12CD ')).toBe('has spaces around it: write "0ne00AB12CD"');
  });

  it('falls back to the form, with an example', () => {
    expect(idScopeProblem('0ne00DEMO00')).toBe(
      'expected 0ne followed by 8 hex digits, such as 0ne00AB12CD (the DPS overview page shows it)',
    );
  });
});

describe('an IoT hub', () => {
  it('must be a host name, with an example built from the name given', () => {
    expect(iotHubProblem('myhub.azure-devices.net')).toBeUndefined();
    expect(iotHubProblem('myhub')).toBe(
      'expected the IoT hub\'s host name, not its name alone: write "myhub.azure-devices.net" (the host name on the hub\'s overview page)',
    );
    expect(iotHubProblem('https://myhub.azure-devices.net/')).toBe(
      'expected the IoT hub\'s host name only, not a URL: write "myhub.azure-devices.net"',
    );
    expect(iotHubProblem('my hub')).toBe(
      'expected a host name for the IoT hub, such as myhub.azure-devices.net',
    );
  });
});
