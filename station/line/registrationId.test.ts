import { describe, expect, it } from 'vitest';
import {
  fieldAddingNothing,
  normaliseRegistrationId,
  quotedFieldValue,
  registrationIdProblem,
  renderRegistrationId,
} from './registrationId.js';

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

  describe('a field that adds nothing to the ID', () => {
    const line = { identifying: ['serial', 'ek'] };

    it.each(['ＳＮ００１', 'ß', '!!!', '-', '', ' ../ '])(
      'refuses serial %j instead of giving the bare model',
      (serial) => {
        expect(normaliseRegistrationId(serial)).toBe('');
        // Without `identifying` (as profile samples render) it is the model's ID alone.
        expect(renderRegistrationId('{model}-{serial}', { model: 'M', serial })).toBe('m');
        expect(() =>
          renderRegistrationId('{model}-{serial}', { model: 'M', serial }, line),
        ).toThrow(
          `registration ID template "{model}-{serial}": serial ${JSON.stringify(serial)} has no character a registration ID may hold (a-z, 0-9, . _ : -), so {serial} adds nothing to the ID ("m")`,
        );
      },
    );

    it('refuses only when every identifying field the template uses adds nothing', () => {
      const fields = { model: 'M', serial: '!!', ek: '···' };
      expect(() => renderRegistrationId('{serial}-{ek}', fields, line)).toThrow(/serial "!!"/);
      // One field that tells devices apart is enough: the EK's hash, with a serial of no use.
      const tpm = { model: 'M', serial: 'ＳＮ００１', ek: 'mfrggzdfmztwq2lk' };
      expect(renderRegistrationId('{serial}-{ek}', tpm, line)).toBe('mfrggzdfmztwq2lk');
      expect(renderRegistrationId('{serial}-{ek}', { ...fields, serial: 'SN1' }, line)).toBe('sn1');
    });

    it('names any identifying field the template uses, and only those', () => {
      const fields = { model: 'M', serial: 'SN1', ek: '···' };
      expect(() => renderRegistrationId('{ek}', fields, line)).toThrow(/ek "···"/);
      // A template without {ek} does not care what the EK field holds.
      expect(renderRegistrationId('{model}-{serial}', fields, line)).toBe('m-sn1');
      // The profile's model is not identifying: a model in another script is a noted setup.
      const model = { model: '传感器', serial: 'SN1' };
      expect(renderRegistrationId('{model}-{serial}', model, line)).toBe('sn1');
      expect(fieldAddingNothing('{model}{serial}', { model: 'x', serial: '?' }, ['serial'])).toBe(
        'serial',
      );
      expect(
        fieldAddingNothing('{model}', { model: 'x', serial: '?' }, ['serial']),
      ).toBeUndefined();
    });

    it('keeps serials with one allowed character, even those that normalise together', () => {
      expect(renderRegistrationId('{model}-{serial}', { model: 'M', serial: 'Ｓ1' }, line)).toBe(
        'm-1',
      );
      // Documented DPS-compatible normalisation, unchanged: these three are one ID.
      for (const serial of ['SN 001', 'SN-001', 'SN/001']) {
        expect(renderRegistrationId('{serial}', { model: 'M', serial }, line)).toBe('sn-001');
      }
    });

    it('quotes the raw value clipped, escaping control characters', () => {
      const long = '！'.repeat(60);
      expect(() => renderRegistrationId('{serial}', { model: 'M', serial: long }, line)).toThrow(
        `serial "${'！'.repeat(40)}"… has no character`,
      );
      expect(quotedFieldValue('a\nb')).toBe('"a\\nb"');
      // Clipped by code points: no half surrogate pair at the cut.
      expect(quotedFieldValue('😀'.repeat(41))).toBe(`"${'😀'.repeat(40)}"…`);
    });
  });
});
