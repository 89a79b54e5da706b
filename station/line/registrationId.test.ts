import { describe, expect, it } from 'vitest';
import { registrationIdProblem, renderRegistrationId } from './registrationId.js';

describe('registration IDs', () => {
  it('renders and normalises a template', () => {
    expect(
      renderRegistrationId('{model}-{serial}', { model: 'LS DEMO/1', serial: 'SIM000001' }),
    ).toBe('ls-demo-1-sim000001');
    expect(renderRegistrationId('_{serial}__', { model: 'm', serial: 'A..B' })).toBe('a.b');
  });

  it('refuses unknown fields, empty results and IDs too long for X.509', () => {
    expect(() => renderRegistrationId('{lot}', { model: 'm', serial: 's' })).toThrow(
      /unknown field \{lot\}/,
    );
    expect(() => renderRegistrationId('{serial}', { model: 'm', serial: '///' })).toThrow(
      /is empty/,
    );
    const long = 'a'.repeat(65);
    expect(() =>
      renderRegistrationId('{serial}', { model: 'm', serial: long }, { x509: true }),
    ).toThrow(/at most 64 for X.509/);
    expect(renderRegistrationId('{serial}', { model: 'm', serial: long })).toBe(long);
  });

  it('checks the DPS character rules', () => {
    expect(registrationIdProblem('dev-01')).toBeUndefined();
    expect(registrationIdProblem('Dev-01')).toMatch(/lower-case/);
    expect(registrationIdProblem('dev-')).toMatch(/start and end/);
    expect(registrationIdProblem('a'.repeat(129))).toMatch(/at most 128/);
  });
});
