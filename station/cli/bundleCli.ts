import { basename, dirname, join } from 'node:path';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { readPassphrase } from './passphrase.js';

/** What the bundle commands share: the bundle passphrase and the files' default names. */

/** Where the bundle passphrase may come from when nobody types it (scripts, CI). */
export const BUNDLE_PASSPHRASE_ENV = 'LINE_STATION_BUNDLE_PASSPHRASE';

/** The bundle passphrase; a new one is asked twice and held to the CA passphrase's length. */
export async function bundleWrapper(confirm: boolean): Promise<PassphraseKeyWrapper> {
  const passphrase = await readPassphrase(
    confirm ? 'New bundle passphrase: ' : 'Bundle passphrase: ',
    { env: BUNDLE_PASSPHRASE_ENV, confirm, what: 'bundle passphrase' },
  );
  return new PassphraseKeyWrapper(passphrase, { session: true });
}

/** `line-station-20261206-0215.bundle`: sorts by time, and says what it is on a stick. */
export function defaultBundleName(at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 13);
  return `line-station-${stamp}.bundle`;
}

/** `x.bundle` → `x.receipt`, beside it. */
export function defaultReceiptName(bundleFile: string): string {
  const name = basename(bundleFile).replace(/\.bundle$/, '');
  return join(dirname(bundleFile), `${name}.receipt`);
}
