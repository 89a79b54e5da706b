/**
 * `npm run simulate:tpms -- --out DIR [--devices N]`: TPM factory contents for
 * simulated devices, so a supervisor can try a `tpm` profile, in a throw-away data folder,
 * without TPM hardware. A made-up TPM maker (a root and an issuing CA, in memory for this run only)
 * gives each device an RSA endorsement key and an EK certificate shaped like a vendor's:
 *
 *   DIR/tpms/SIM000001.ekpub, .ekcert, …   for `npm run simulate -- --tpm-dir DIR/tpms`
 *   DIR/trust/simulated-tpm-maker-*.pem      for the station's `<data>/trust/tpm-vendors/`
 *
 * The maker's keys are gone when the script ends: nobody can issue another EK certificate under
 * its CAs. Take its files out of the trust folder once the trial is over all the same.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createTpmVendor } from '../certs/testing/tpmVendorKit.js';
import { typedPath } from '../firmware-bridge/simulator/typedPath.js';
import {
  EK_CERTIFICATE_SUFFIX,
  EK_PUBLIC_SUFFIX,
} from '../firmware-bridge/simulator/tpmDirectory.js';

const MAKER = 'SIMULATED TPM Maker';

export interface SimulatedTpmsOptions {
  out: string;
  devices: number;
}

/** The simulator's serial numbers: SIM000001, SIM000002, … in device order. */
const SERIAL_PREFIX = 'SIM';

/** Writes the files; returns the folders to hand to the simulator and the station. */
export async function makeSimulatedTpms(
  options: SimulatedTpmsOptions,
): Promise<{ tpmDir: string; trustDir: string }> {
  const tpmDir = join(options.out, 'tpms');
  const trustDir = join(options.out, 'trust');
  // Another run's TPMs left beside these would come from another maker, whose CAs are not the
  // ones written now: their devices would fail EK_CERT_UNTRUSTED for no visible reason.
  if ((await readdir(tpmDir).catch(() => [])).length > 0) {
    throw new Error(`${tpmDir} is not empty: give a new --out, or remove that folder first`);
  }
  await mkdir(tpmDir, { recursive: true });
  await mkdir(trustDir, { recursive: true });
  const maker = await createTpmVendor({ name: MAKER });
  await writeFile(join(trustDir, 'simulated-tpm-maker-root.pem'), maker.rootPem);
  await writeFile(join(trustDir, 'simulated-tpm-maker-intermediate.pem'), maker.intermediatePem);
  for (let index = 1; index <= options.devices; index++) {
    const serial = `${SERIAL_PREFIX}${String(index).padStart(6, '0')}`;
    const tpm = await maker.makeEk({ type: 'rsa' });
    await writeFile(join(tpmDir, `${serial}${EK_PUBLIC_SUFFIX}`), tpm.ekPublic);
    await writeFile(join(tpmDir, `${serial}${EK_CERTIFICATE_SUFFIX}`), tpm.ekCertificate!);
  }
  return { tpmDir, trustDir };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      devices: { type: 'string', default: '8' },
    },
  });
  const devices = Number(values.devices);
  if (values.out === undefined || values.out === '') {
    throw new Error('--out DIR is required: the folder the TPM files and CA certificates go to');
  }
  if (!Number.isInteger(devices) || devices < 1 || devices > 256) {
    throw new Error('--devices must be a whole number from 1 to 256');
  }
  const out = typedPath(values.out, 'simulate:tpms');
  const { tpmDir, trustDir } = await makeSimulatedTpms({ out, devices });
  console.log(`${devices} simulated TPMs from "${MAKER}" in ${tpmDir}`);
  const data = join(out, 'data');
  console.log('Next, in a throw-away data folder (docs/real-line.md, TPM devices):');
  console.log(
    `  mkdir -p ${data}/trust/tpm-vendors && cp ${trustDir}/*.pem ${data}/trust/tpm-vendors/`,
  );
  console.log(`  npm run simulate -- --devices ${devices} --tpm-dir ${tpmDir}`);
  console.log(
    `  then ca init and serve with --data-dir ${data} and a tpm profile for model LS-DEMO-1`,
  );
}

// Run as a script; imported (by its test), it only exports.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((err: unknown) => {
    console.error(`simulate:tpms: ${(err as Error).message}`);
    process.exitCode = 1;
  });
}
