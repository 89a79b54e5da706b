import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  productProfileSchema,
  type ProductProfile,
  type ProductProfileInput,
} from '../profiles/productProfile.js';
import { profileFingerprint } from './profileFingerprint.js';

/** A profile as a supervisor writes it, defaults omitted. */
const written = (): ProductProfileInput => ({
  name: 'Sensor A',
  models: ['SENSOR-A', 'SENSOR-B'],
  dps: { idScope: '0ne0012AB34' },
  attestation: { mode: 'x509-device-key' },
});

const fingerprintOf = (file: ProductProfileInput) =>
  profileFingerprint(productProfileSchema.parse(file));

/**
 * The schema as a later release might have it: a new field with a default at the top, one in an
 * object that already had defaults, and a new object of defaults; plus an optional field.
 */
const certificateSchema = productProfileSchema.shape.certificate.unwrap();
const laterSchema = productProfileSchema.safeExtend({
  ledColour: z.enum(['green', 'amber']).default('green'),
  certificate: certificateSchema
    .extend({ keyUsage: z.string().default('digitalSignature') })
    .default({ validityDays: 1095, keyUsage: 'digitalSignature' }),
  telemetry: z
    .strictObject({ intervalSeconds: z.number().default(60), topics: z.array(z.string()) })
    .partial({ topics: true })
    .default({ intervalSeconds: 60 }),
  label: z.string().optional(),
});

/** The fingerprint of `file` on a station running the later release. */
const laterFingerprintOf = (file: Record<string, unknown>) =>
  profileFingerprint(laterSchema.parse(file) as ProductProfile, laterSchema);

describe('profileFingerprint', () => {
  it('is the same whether the file spells out a default or omits it, at any depth', () => {
    const omitted = fingerprintOf(written());
    const spelledOut: ProductProfileInput[] = [
      {
        ...written(),
        dps: { idScope: '0ne0012AB34', globalEndpoint: 'global.azure-devices-provisioning.net' },
      },
      // The URL form of the default endpoint is the same host once parsed.
      {
        ...written(),
        dps: {
          idScope: '0ne0012AB34',
          globalEndpoint: 'https://global.azure-devices-provisioning.net/',
        },
      },
      { ...written(), iotEdge: false, duplicates: 'refuse' },
      { ...written(), registrationId: { template: '{model}-{serial}' } },
      { ...written(), registrationId: {} },
      { ...written(), certificate: { validityDays: 1095 } },
      { ...written(), certificate: {} },
    ];
    for (const file of spelledOut) expect(fingerprintOf(file), JSON.stringify(file)).toBe(omitted);
  });

  it('is unchanged when a later release adds fields with defaults to the schema', () => {
    const later = laterSchema.parse(written());
    // The later schema does fill its new defaults in: without them left out, they would count.
    expect(later).toMatchObject({
      ledColour: 'green',
      certificate: { validityDays: 1095, keyUsage: 'digitalSignature' },
      telemetry: { intervalSeconds: 60 },
    });
    expect(laterFingerprintOf(written())).toBe(fingerprintOf(written()));
    const customised = { ...written(), iotEdge: true, certificate: { validityDays: 730 } };
    expect(laterFingerprintOf(customised)).toBe(fingerprintOf(customised));
    // A file written for the later release that spells out its new defaults is the same too.
    expect(
      laterFingerprintOf({
        ...written(),
        ledColour: 'green',
        certificate: { keyUsage: 'digitalSignature' },
        telemetry: { intervalSeconds: 60 },
      }),
    ).toBe(fingerprintOf(written()));
  });

  it('changes with every value that is not a default, nested ones included', () => {
    const changed: ProductProfileInput[] = [
      { ...written(), dps: { idScope: '0ne0012AB35' } },
      { ...written(), dps: { idScope: '0ne0012AB34', globalEndpoint: '127.0.0.1:8443' } },
      { ...written(), models: ['SENSOR-B', 'SENSOR-A'] },
      { ...written(), iotEdge: true },
      { ...written(), duplicates: 'reprovision' },
      { ...written(), registrationId: { template: '{serial}' } },
      { ...written(), certificate: { validityDays: 730 } },
      { ...written(), allocationPolicy: 'hashed' },
      { ...written(), initialTwin: {} },
      { ...written(), initialTwin: { tags: { site: 'north' } } },
    ];
    const fingerprints = [written(), ...changed].map(fingerprintOf);
    expect(new Set(fingerprints).size).toBe(fingerprints.length);
    // A field the later release added, given a value of its own, is a change too.
    expect(laterFingerprintOf({ ...written(), ledColour: 'amber' })).not.toBe(
      fingerprintOf(written()),
    );
    expect(laterFingerprintOf({ ...written(), telemetry: { intervalSeconds: 30 } })).not.toBe(
      fingerprintOf(written()),
    );
    expect(laterFingerprintOf({ ...written(), label: 'night shift' })).not.toBe(
      fingerprintOf(written()),
    );
  });
});
