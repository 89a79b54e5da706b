import { attestorFor, unsupportedModeText } from '../line/attestation/attestors.js';
import { loadProfiles, ProfileError } from '../profiles/loadProfiles.js';

export const PROFILES_USAGE = `  profiles validate FILE                         check a product profiles file ({"profiles": [...]});
                                                 every problem is named by its field path
          the fields are described in docs/real-line.md`;

/** `station profiles validate FILE`: a supervisor checks a profiles file before the line uses it. */
export async function profiles(args: string[]): Promise<number> {
  const [sub, file] = args;
  if (sub !== 'validate' || file === undefined) {
    console.error(`station profiles: usage\n${PROFILES_USAGE}`);
    return 2;
  }
  try {
    const loaded = await loadProfiles(file);
    let unusable = 0;
    loaded.forEach((p, index) => {
      // The schema knows every mode DPS has; the line runs only those with an attestor. A file
      // that passed here while every device then failed RUN_MODE_NOT_SUPPORTED was no check.
      if (attestorFor(p.attestation.mode) === undefined) {
        unusable++;
        console.error(
          `${file}: profiles[${index}].attestation.mode: ${unsupportedModeText(p.attestation.mode)}`,
        );
        return;
      }
      console.log(
        `ok  ${p.name}: ${p.attestation.mode}, models ${p.models.join(', ')}, endpoint ${p.dps.globalEndpoint}, scope ${p.dps.idScope}`,
      );
    });
    if (unusable > 0) return 1;
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
