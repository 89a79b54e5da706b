import { loadProfilesWithNotes, ProfileError } from '../profiles/loadProfiles.js';
import { templateOptions, type ProductProfile } from '../profiles/productProfile.js';
import {
  SAMPLE_SERIAL,
  sampleRegistrationId,
  sampleRegistrationIdText,
} from '../profiles/registrationIdTemplate.js';

export const PROFILES_USAGE = `  profiles validate FILE                         check a product profiles file ({"profiles": [...]});
                                                 every problem is named by its field path, and
                                                 each product's registration ID is shown for a
                                                 sample device (serial ${SAMPLE_SERIAL})
          the fields are described in docs/real-line.md`;

/** `station profiles validate FILE`: a supervisor checks a profiles file before the line uses it. */
export async function profiles(args: string[]): Promise<number> {
  const [sub, file] = args;
  if (sub !== 'validate' || file === undefined) {
    console.error(`station profiles: usage\n${PROFILES_USAGE}`);
    return 2;
  }
  try {
    const { profiles: loaded, notes } = await loadProfilesWithNotes(file);
    loaded.forEach((p) => {
      console.log(
        `ok  ${p.name}: ${p.attestation.mode}, models ${p.models.join(', ')}, endpoint ${p.dps.globalEndpoint}, scope ${p.dps.idScope}`,
      );
      console.log(`    ${registrationIdLine(p)}`);
    });
    for (const note of notes) console.log(`note ${note.path}: ${note.message}`);
    console.log(`${loaded.length} profile${loaded.length === 1 ? '' : 's'} valid in ${file}`);
    return 0;
  } catch (err) {
    if (!(err instanceof ProfileError)) throw err;
    console.error(
      `${file}: ${err.issues.length} problem${err.issues.length === 1 ? '' : 's'} [${err.code}]`,
    );
    for (const issue of err.issues) console.error(`  ${issue.path || '(file)'}: ${issue.message}`);
    return 1;
  }
}

/**
 * What DPS gets for a device of the profile's first model: the template is normalised for DPS
 * (lower case, other characters to `-`) without a word at run time, so it is shown here.
 */
function registrationIdLine(profile: ProductProfile): string {
  const sample = sampleRegistrationId(
    profile.registrationId.template,
    profile.models[0]!,
    templateOptions(profile.attestation.mode),
  );
  return sampleRegistrationIdText(sample);
}
