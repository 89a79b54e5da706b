import { describe, expect, it } from 'vitest';
import { renderRegistrationId } from '../line/registrationId.js';
import {
  normalisationChanges,
  sampleRegistrationId,
  sampleRegistrationIdText,
  templateProblem,
} from './registrationIdTemplate.js';

const x509 = { x509: true, tpm: false };
const tpm = { x509: false, tpm: true };

describe('registration ID templates', () => {
  it('lists the valid fields when a template names an unknown one', () => {
    expect(templateProblem('{model}-{sn}', x509)).toBe(
      'registration ID template names unknown field {sn}; the fields are {model} and {serial}',
    );
    expect(templateProblem('{sn}', tpm)).toBe(
      'registration ID template names unknown field {sn}; the fields are {model}, {serial} and {ek}',
    );
    expect(templateProblem('{model}-{Serial}', x509)).toBe(
      'registration ID template names unknown field {Serial} (fields are lower case: {serial}); the fields are {model} and {serial}',
    );
  });

  it('checks the template with every model of the profile', () => {
    const long = 'M'.repeat(60);
    expect(templateProblem('{model}-{serial}', x509, ['SHORT'])).toBeUndefined();
    expect(templateProblem('{model}-{serial}', x509, ['SHORT', long])).toMatch(
      new RegExp(`at most 64 for X\\.509.*\\(model "${long}"\\)$`),
    );
  });
});

describe('a sample registration ID', () => {
  it('shows the sample values, the ID and what normalisation changed', () => {
    const sample = sampleRegistrationId('line 7 {serial}', 'SENSOR-2', x509);
    expect(sample).toEqual({
      fields: [{ name: 'serial', value: 'SN00000001' }],
      text: 'line 7 SN00000001',
      id: 'line-7-sn00000001',
      changes: ['lower-cased', 'spaces became "-"'],
    });
    expect(sampleRegistrationIdText(sample)).toBe(
      'registration ID for serial "SN00000001": line-7-sn00000001 (from "line 7 SN00000001"; changed for DPS: lower-cased, spaces became "-")',
    );
  });

  it('uses the model it is given, and says nothing when the text is already an ID', () => {
    const sample = sampleRegistrationId('{model}.{serial}', 'sensor-2', x509);
    expect(sample.id).toBe('sensor-2.sn00000001');
    const plain = sampleRegistrationId('{model}', 'x', tpm);
    expect(plain.changes).toEqual([]);
    const ek = sampleRegistrationId('{ek}', 'T-1', tpm);
    expect(sampleRegistrationIdText(ek)).toBe(
      `registration ID for ek "aaaaaaaa…" (52 characters): ${'a'.repeat(52)}`,
    );
  });

  it.each([
    ['Line 7/A', ['lower-cased', 'spaces, "/" became "-"']],
    ['a--b', ['repeated separators became one']],
    ['-ab_', ['separators at the start or end were dropped']],
    ['a #b', ['spaces, "#" became "-"']],
  ])('names each step that changed %j', (text, changes) => {
    const id = renderRegistrationId('{serial}', { model: 'm', serial: text });
    expect(normalisationChanges(text, id)).toEqual(changes);
  });
});
