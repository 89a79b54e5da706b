import { DEFAULT_LEAF_PROFILE, type LeafProfile } from '../../certs/leafProfile.js';
import { profileCurve, type ProductProfile } from '../profiles/productProfile.js';

/**
 * The CA's leaf profile for a product: its validity, and only its curve (a device that made a
 * key on another curve is refused at the CSR check). Made once per line: the CA keeps one
 * template per leaf profile object.
 */
export function leafProfileOf(profile: ProductProfile): LeafProfile {
  return {
    ...DEFAULT_LEAF_PROFILE,
    name: profile.name,
    validityDays: profile.certificate.validityDays,
    allowedKeys: [{ kty: 'EC', curve: profileCurve(profile) }],
  };
}
