/**
 * A line with a group key on one side of an air gap and the DPS emulator on the other, for
 * tests that carry symmetric-key group members through outbox bundles with the real commands:
 * a station database with its CA (passphrase in the environment, as a script gives it), the
 * group key, bundle passphrase and DPS connection in the environment, the emulator's CA trusted
 * over HTTPS. Registers its own beforeEach/afterEach; read the parts in tests or in a later
 * beforeEach.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, vi } from 'vitest';
import { initStationCa } from '../../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../../certs/custody/passphraseKeyWrapper.js';
import { parseConnectionString } from '../../../dps/auth/connectionString.js';
import { startDpsEmulator, type DpsEmulator } from '../../../dps/emulator/dpsEmulator.js';
import { DpsServiceClient } from '../../../dps/service/dpsServiceClient.js';
import { DPS_CA_ENV } from '../../production/dpsConnection.js';
import { SyncTestStation } from '../../sync/testing/syncTestStation.js';

/** The line's CA passphrase. */
export const LINE_PASSPHRASE = 'line seven ca passphrase';
/** The passphrase bundles and receipts are sealed under (the commands read it from the environment). */
export const BUNDLE_PASSPHRASE = 'bundle test passphrase';

export interface AirGapGroupLine {
  /** The line's station database, with its CA. */
  line: SyncTestStation;
  /** The DPS the office machine reaches. */
  emulator: DpsEmulator;
  /** A folder for bundles, receipts and the office machine's data folder (`office`). */
  dir: string;
  /** What the commands printed, stdout and stderr. */
  output: string[];
  /** The office machine's data folder. */
  office: string;
  /**
   * An X.509 PASS the emulator takes (its CA as the device's certificate), under `reg-{serial}`
   * or `registrationId` (the device provisioned again under another ID).
   */
  provisionX509(serial: string, registrationId?: string): number;
  /** From now on the office machine's connection string carries a wrong key: DPS refuses it. */
  refuseOfficeKey(): void;
  /** Enrollment group `groupId` created in DPS, enabled, with the line's group key. */
  createGroupInDps(groupId: string): Promise<void>;
}

/** The parts, fresh for each test; `groupKey` (base64) is the one `keys set-group` stores. */
export function airGapGroupLine(groupKey = randomBytes(32).toString('base64')): AirGapGroupLine {
  const parts = {} as AirGapGroupLine;
  beforeEach(async () => {
    const line = new SyncTestStation();
    const dir = mkdtempSync(join(tmpdir(), 'air-gap-group-'));
    const emulator = await startDpsEmulator({});
    writeFileSync(join(dir, 'emulator-ca.pem'), emulator.caCertificatePem);
    await initStationCa(join(line.dir, 'ca'), {
      name: 'Line 7 TEST',
      wrapper: new PassphraseKeyWrapper(LINE_PASSPHRASE, { scrypt: { N: 1024 } }),
    });
    const output: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((text: string) => void output.push(text));
    vi.spyOn(console, 'error').mockImplementation((text: string) => void output.push(text));
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', LINE_PASSPHRASE);
    vi.stubEnv('LINE_STATION_BUNDLE_PASSPHRASE', BUNDLE_PASSPHRASE);
    vi.stubEnv('LINE_STATION_GROUP_KEY', groupKey);
    vi.stubEnv(DPS_CA_ENV, join(dir, 'emulator-ca.pem'));
    vi.stubEnv('LINE_STATION_DPS_CONNECTION', emulator.serviceConnectionString);
    Object.assign(parts, {
      line,
      emulator,
      dir,
      output,
      office: join(dir, 'office'),
      provisionX509: (serial: string, registrationId?: string) =>
        provisionX509(line, emulator, serial, registrationId),
      createGroupInDps: (groupId: string) => createGroupInDps(emulator, groupId, groupKey),
      refuseOfficeKey: () =>
        vi.stubEnv(
          'LINE_STATION_DPS_CONNECTION',
          emulator.serviceConnectionString.replace(
            /SharedAccessKey=[^;]+/,
            `SharedAccessKey=${randomBytes(32).toString('base64')}`,
          ),
        ),
    });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    await parts.line.close();
    await parts.emulator.close();
    rmSync(parts.dir, { recursive: true, force: true });
  });
  return parts;
}

function provisionX509(
  line: SyncTestStation,
  emulator: DpsEmulator,
  serial: string,
  registrationId = `reg-${serial.toLowerCase()}`,
): number {
  return line.provision(serial, {
    registrationId,
    enrollment: {
      registrationId,
      attestation: {
        type: 'x509',
        x509: { clientCertificates: { primary: { certificate: emulator.caCertificatePem } } },
      },
    },
  });
}

async function createGroupInDps(
  emulator: DpsEmulator,
  enrollmentGroupId: string,
  groupKey: string,
): Promise<void> {
  const dps = new DpsServiceClient({
    connectionString: parseConnectionString(emulator.serviceConnectionString),
    ca: emulator.caCertificatePem,
  });
  try {
    await dps.createOrUpdateEnrollmentGroup({
      enrollmentGroupId,
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: groupKey } },
      provisioningStatus: 'enabled',
    });
  } finally {
    dps.close();
  }
}
