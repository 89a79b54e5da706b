/**
 * The bundle commands as the air-gap tests run them on an AirGapGroupLine: export on the line,
 * sync on the office machine, receive back on the line, by file name in the kit's folder; and
 * the sealed files and DPS's records opened for assertions.
 */
import { join } from 'node:path';
import { PassphraseKeyWrapper } from '../../../certs/custody/passphraseKeyWrapper.js';
import { parseConnectionString } from '../../../dps/auth/connectionString.js';
import { DpsServiceClient } from '../../../dps/service/dpsServiceClient.js';
import type { IndividualEnrollment } from '../../../dps/service/serviceTypes.js';
import { bundleCommand } from '../../cli/bundleCommand.js';
import { dpsClientFor } from '../../production/dpsConnection.js';
import { openBundle, openReceipt, readSealedFile } from '../bundleFiles.js';
import type { BundlePayload, ReceiptPayload } from '../bundlePayload.js';
import { BUNDLE_PASSPHRASE, type AirGapGroupLine } from './airGapGroupLine.js';

export interface BundleCommands {
  exportTo(name: string): Promise<number>;
  syncOnline(name: string): Promise<number>;
  /** Receives the receipt `bundle sync` wrote beside bundle `name`. */
  receive(name: string): Promise<number>;
  /** Declares the bundle of file `name` lost on the line (`bundle lost ID`). */
  declareLost(name: string): Promise<number>;
  openedBundle(name: string): Promise<BundlePayload>;
  openedReceipt(name: string): Promise<ReceiptPayload>;
  /** What DPS holds under `registrationId`, read with the emulator's own connection. */
  inDps(registrationId: string): Promise<IndividualEnrollment | undefined>;
}

export function bundleCommandsOn(gap: AirGapGroupLine): BundleCommands {
  const bundle = bundleCommand(dpsClientFor);
  const wrapper = new PassphraseKeyWrapper(BUNDLE_PASSPHRASE);
  const file = (name: string) => join(gap.dir, name);
  const receiptOf = (name: string) => file(name.replace(/\.bundle$/, '.receipt'));
  return {
    exportTo: (name) =>
      bundle(['export', '--out', file(name), '--by', 'sam', '--data-dir', gap.line.dir]),
    syncOnline: (name) => bundle(['sync', file(name), '--by', 'sam', '--data-dir', gap.office]),
    receive: (name) => bundle(['receive', receiptOf(name), '--data-dir', gap.line.dir]),
    declareLost: async (name) => {
      const { bundleId } = readSealedFile(file(name), 'bundle');
      return bundle(['lost', bundleId, '--by', 'ana', '--data-dir', gap.line.dir]);
    },
    openedBundle: (name) => openBundle(readSealedFile(file(name), 'bundle'), wrapper),
    openedReceipt: (name) => openReceipt(readSealedFile(receiptOf(name), 'receipt'), wrapper),
    inDps: async (registrationId) => {
      const dps = new DpsServiceClient({
        connectionString: parseConnectionString(gap.emulator.serviceConnectionString),
        ca: gap.emulator.caCertificatePem,
      });
      try {
        return await dps.getEnrollment(registrationId);
      } finally {
        dps.close();
      }
    },
  };
}
