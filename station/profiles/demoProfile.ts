import { productProfileSchema, type ProductProfile } from './productProfile.js';

/**
 * The DEMO product that `npm start` provisions: the simulator's model, the public DPS endpoint
 * and an ID scope that is valid in form but belongs to no DPS instance (`DE30` reads "DEMO").
 * Every place that shows the profile shows its name, and the name says DEMO.
 */
export const DEMO_ID_SCOPE = '0ne0000DE30';

/** A fresh copy of the DEMO profile, validated by the same schema as any profiles file. */
export function demoProfile(): ProductProfile {
  return productProfileSchema.parse({
    name: 'DEMO LS-DEMO-1 (not for production)',
    models: ['LS-DEMO-1'],
    dps: { idScope: DEMO_ID_SCOPE },
    registrationId: { template: '{model}-{serial}' },
    attestation: { mode: 'x509-device-key', curve: 'P-256' },
    initialTwin: { tags: { line: 'demo' } },
    duplicates: 'reprovision',
  });
}
