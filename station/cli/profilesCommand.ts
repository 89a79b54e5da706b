import { loadProfilesWithNotes, ProfileError } from '../profiles/loadProfiles.js';
import { templateOptions, type ProductProfile } from '../profiles/productProfile.js';
import {
  SAMPLE_SERIAL,
  sampleRegistrationId,
  sampleRegistrationIdText,
} from '../profiles/registrationIdTemplate.js';
import { UsageError } from './usageError.js';

export const PROFILES_USAGE = `  profiles validate FILE...                      check product profiles files ({"profiles": [...]});
                                                 every problem is named by its field path, and
                                                 each product's registration ID is shown for a
                                                 sample device (serial ${SAMPLE_SERIAL})
          the fields are described in docs/real-line.md`;

/**
 * `station profiles validate FILE...`: a supervisor checks profiles files before the line uses
 * them. Every file given is checked and its result printed; the exit is 1 when any fails. An
 * option is refused (it takes none): a stray flag read as a file, or dropped, hid a typo.
 */
export async function profiles(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const files = validateFiles(rest);
  if (sub !== 'validate' || files.length === 0) {
    console.error(`station profiles: usage\n${PROFILES_USAGE}`);
    return 2;
  }
  let failed = 0;
  for (const file of files) {
    if (!(await validate(file))) failed++;
  }
  if (files.length > 1) {
    console.log(`${files.length - failed} of ${files.length} files valid`);
  }
  return failed > 0 ? 1 : 0;
}

/** The FILEs: any word before `--` that starts with "-" is an option, and it takes none. */
function validateFiles(args: string[]): string[] {
  const end = args.indexOf('--');
  const before = end === -1 ? args : args.slice(0, end);
  const option = before.find((arg) => arg.startsWith('-'));
  if (option !== undefined) {
    throw new UsageError(
      `station profiles validate: unknown option "${option}" (it takes only FILEs; write -- before a file name that starts with "-")`,
    );
  }
  return end === -1 ? args : [...before, ...args.slice(end + 1)];
}

/** Checks one file and prints what it found; whether it is valid. */
async function validate(file: string): Promise<boolean> {
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
    return true;
  } catch (err) {
    if (!(err instanceof ProfileError)) throw err;
    console.error(
      `${file}: ${err.issues.length} problem${err.issues.length === 1 ? '' : 's'} [${err.code}]`,
    );
    for (const issue of err.issues) console.error(`  ${issue.path || '(file)'}: ${issue.message}`);
    return false;
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
