/**
 * Fixtures for the exportBundle tests (never used at run time): the bundle passphrase, the request
 * a supervisor makes for a station and a file, and the written bundle opened as the syncing
 * machine would open it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PassphraseKeyWrapper } from '../../../certs/custody/passphraseKeyWrapper.js';
import type { SyncTestStation } from '../../sync/testing/syncTestStation.js';
import type { ExportRequest } from '../bundleExport.js';
import { bundlePayloadSchema, checkPayload, type BundlePayload } from '../bundlePayload.js';
import { openPayload } from '../bundleSeal.js';

// Cheap scrypt and one salt per session: these tests are about the outbox, not the passphrase.
export const bundleWrapper = new PassphraseKeyWrapper('bundle passphrase', {
  scrypt: { N: 1024 },
  session: true,
});

/** When a test pins the export's clock, so times in the bundle and its record can be compared. */
export const NOW = new Date('2026-03-02T08:00:00.000Z');

// Computed here rather than with bodySha256, so the tests check the export's hash, not reuse it.
export const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * A supervisor's export of `station`'s outbox to `file`, the CA passphrase at hand. The clock is
 * the real one unless `overrides` pins it.
 */
export function exportRequest(
  station: SyncTestStation,
  file: string,
  overrides: Partial<ExportRequest> = {},
): ExportRequest {
  return {
    db: station.db,
    file,
    wrapper: bundleWrapper,
    caSecrets: () => Promise.resolve(station.openSecret),
    actor: 'supervisor:ana',
    dataDir: station.dir,
    ...overrides,
  };
}

/** The bundle written at `file`, opened with the bundle passphrase and validated like a real one. */
export async function openBundle(file: string): Promise<BundlePayload> {
  const { payload } = await openPayload(readFileSync(file, 'utf8'), 'bundle', bundleWrapper);
  return checkPayload(bundlePayloadSchema, payload, 'the bundle read back');
}
