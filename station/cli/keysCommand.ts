import { parseArgs } from 'node:util';
import { saveGroupKey } from '../production/groupKeys.js';
import { resolveDataDir } from './dataDir.js';
import { checkedCaPassphrase } from './caPassphrase.js';
import { readPassphrase } from './passphrase.js';

export const KEYS_USAGE = `  keys set-group --group ID                      store a symmetric-key enrollment group's primary key,
                                                 sealed under the CA passphrase (the key comes from
                                                 LINE_STATION_GROUP_KEY, the terminal, or stdin); --data-dir DIR`;

/** `station keys …`: secrets a supervisor hands to the station. */
export async function keys(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: { group: { type: 'string' }, 'data-dir': { type: 'string' } },
  });
  if (sub !== 'set-group') {
    console.error(`station keys: unknown subcommand "${sub ?? ''}"\n${KEYS_USAGE}`);
    return 2;
  }
  if (!values.group) {
    console.error('station keys set-group: give --group ID (the DPS enrollment group ID)');
    return 2;
  }
  const key = await readPassphrase('Group primary key (base64): ', {
    env: 'LINE_STATION_GROUP_KEY',
  });
  const dataDir = resolveDataDir(values['data-dir']);
  const file = await saveGroupKey(dataDir, values.group, key, await checkedCaPassphrase(dataDir));
  console.log(`The key of group "${values.group}" is sealed in ${file}.`);
  return 0;
}
