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
    loaded.forEach((p) => {
      console.log(
        `ok  ${p.name}: ${p.attestation.mode}, models ${p.models.join(', ')}, endpoint ${p.dps.globalEndpoint}, scope ${p.dps.idScope}`,
      );
    });
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
