/**
 * `npm run bench -- ca`: device-leaf issuance against its physical floor, in one run.
 *
 * - raw: node:crypto ECDSA P-256 sign (a 200-byte TBS-sized buffer, CA key) + verify (a device
 *   signature over 150 bytes) pairs per second: the least work "check a CSR, sign a leaf" needs.
 * - naive: the reference issuer (certs/referenceIssuer.ts): @peculiar/x509 parses the CSR,
 *   verifies it and builds the certificate with the same extensions.
 * - ours: checkCsr + issueLeafFast with a SoftwareCaSigner, over a pool of pre-made P-256 CSRs
 *   with distinct expected IDs; once in a tight loop, once in ~2 ms slices that yield to the
 *   event loop (how the station runs it), with the event-loop delay measured meanwhile.
 *
 * Prints a table, then as the LAST line one JSON object (fields stable across runs). oursPerSec
 * and ratioToRaw come from the sliced run: it includes the cost of staying responsive.
 */
import { generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Crypto } from '@peculiar/webcrypto';
import { checkCsr } from '../../certs/csr/checkCsr.js';
import { buildCsr } from '../../certs/csr/buildCsr.js';
import { isProblem } from '../../certs/der/derReader.js';
import { issueLeafFast } from '../../certs/leaf/issueLeafFast.js';
import { LeafTemplate } from '../../certs/leaf/leafTemplate.js';
import { DEFAULT_LEAF_PROFILE } from '../../certs/leafProfile.js';
import {
  createInMemoryCa,
  issueLeafFromCsr,
  issuingPrivateKey,
} from '../../certs/referenceIssuer.js';
import { SoftwareCaSigner } from '../../certs/softwareCaSigner.js';
import { readCertificate } from '../../certs/x509/readCertificate.js';
import { printTable } from './table.js';

const SLICE_MS = 2;

interface Device {
  id: string;
  csr: Buffer;
}

/** Runs `step` repeatedly for `ms` of wall-clock time; returns operations per second. */
async function rate(ms: number, step: (i: number) => unknown): Promise<number> {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    await step(n++);
    now = performance.now();
  }
  return (n / (now - start)) * 1000;
}

/** Synchronous variant for the raw loop, so no promise machinery is counted against the floor. */
function rateSync(ms: number, step: (i: number) => void): number {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    step(n++);
    now = performance.now();
  }
  return (n / (now - start)) * 1000;
}

/** Like `rate`, but yields to the event loop (setImmediate) after every ~2 ms of work. */
async function rateInSlices(ms: number, step: (i: number) => Promise<unknown>): Promise<number> {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    const sliceEnd = now + SLICE_MS;
    do {
      await step(n++);
      now = performance.now();
    } while (now < sliceEnd);
    await new Promise<void>((resolve) => setImmediate(resolve));
    now = performance.now();
  }
  return (n / (now - start)) * 1000;
}

function makeDevices(count: number): Device[] {
  const devices: Device[] = [];
  for (let i = 0; i < count; i++) {
    const id = `bench-device-${String(i).padStart(6, '0')}`;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    devices.push({ id, csr: buildCsr({ privateKey, commonName: id }) });
  }
  return devices;
}

function rawPair(caKey: KeyObject, device: { publicKey: KeyObject; privateKey: KeyObject }) {
  const tbs = randomBytes(200);
  const challenge = randomBytes(150);
  const deviceSignature = sign('sha256', challenge, { key: device.privateKey, dsaEncoding: 'der' });
  return () => {
    sign('sha256', tbs, { key: caKey, dsaEncoding: 'der' });
    if (
      !verify('sha256', challenge, { key: device.publicKey, dsaEncoding: 'der' }, deviceSignature)
    ) {
      throw new Error('raw verify failed');
    }
  };
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: '2' },
      pool: { type: 'string', default: '2000' },
    },
  });
  const windowMs = Number(values.seconds) * 1000;
  const poolSize = Number(values.pool);
  if (!(windowMs > 0) || !Number.isInteger(poolSize) || poolSize < 1) {
    throw new Error('--seconds must be > 0 and --pool a positive integer');
  }

  const ca = await createInMemoryCa(new Crypto(), 'Line Station BENCH');
  const caKey = await issuingPrivateKey(ca);
  const signer = new SoftwareCaSigner(caKey);
  const profile = DEFAULT_LEAF_PROFILE;
  const template = LeafTemplate.create({
    issuingCertificate: new Uint8Array(ca.issuing.rawData),
    profile,
    algorithm: signer.algorithm,
  });
  const devices = makeDevices(poolSize);
  const device = (i: number): Device => devices[i % devices.length]!;

  const raw = rawPair(caKey, generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const naive = (i: number) => issueLeafFromCsr(ca, device(i).csr, device(i).id);
  const ours = async (i: number) => {
    const d = device(i);
    const { parsed } = await checkCsr(d.csr, { expectedRegistrationId: d.id, profile });
    return issueLeafFast(template, signer, { registrationId: d.id, spki: parsed.spki.raw });
  };

  // Guard: the measured path issues certificates that read back and verify.
  const sample = await ours(0);
  const cert = readCertificate(sample.certificateDer);
  if (isProblem(cert) || cert.commonName.value !== devices[0]!.id) throw new Error('bad leaf');
  if (!verify('sha256', cert.tbs, { key: caKey, dsaEncoding: 'der' }, cert.signature)) {
    throw new Error('leaf signature does not verify');
  }

  // Each path warms up (JIT, first-use crypto setup) right before it is measured, and the naive
  // path runs last: the garbage a path leaves is collected during whatever runs next, so the
  // allocation-heavy @peculiar loop must not bill its collections to the others.
  const warmMs = Math.min(500, windowMs / 4);
  rateSync(warmMs, raw);
  const rawPerSec = rateSync(windowMs, raw);
  await rate(warmMs, ours);
  const tightPerSec = await rate(windowMs, ours);
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const oursPerSec = await rateInSlices(windowMs, ours);
  lag.disable();
  await rate(warmMs, naive);
  const naivePerSec = await rate(windowMs, naive);
  const lagP50Ms = lag.percentile(50) / 1e6;
  const lagP99Ms = lag.percentile(99) / 1e6;
  const lagMaxMs = lag.max / 1e6;

  const row = (name: string, perSec: number): (string | number)[] => [
    name,
    Math.round(perSec).toLocaleString('en-US'),
    (1e6 / perSec).toFixed(1),
    (perSec / rawPerSec).toFixed(3),
  ];
  console.log(
    `CA ${signer.algorithm}, P-256 device CSRs (pool ${poolSize}), ${windowMs} ms per row`,
  );
  printTable(
    ['path', 'per second', 'µs each', 'ratio to raw'],
    [
      row('raw sign+verify (node:crypto)', rawPerSec),
      row('naive (@peculiar/x509)', naivePerSec),
      row('ours, tight loop', tightPerSec),
      row(`ours, ${SLICE_MS} ms slices`, oursPerSec),
    ],
  );
  console.log(
    `event-loop delay while issuing in slices: p50 ${lagP50Ms.toFixed(2)} ms, ` +
      `p99 ${lagP99Ms.toFixed(2)} ms, max ${lagMaxMs.toFixed(2)} ms`,
  );
  const round = (n: number, digits: number) => Number(n.toFixed(digits));
  console.log(
    JSON.stringify({
      suite: 'ca',
      rawPerSec: Math.round(rawPerSec),
      naivePerSec: Math.round(naivePerSec),
      oursPerSec: Math.round(oursPerSec),
      ratioToRaw: round(oursPerSec / rawPerSec, 3),
      lagP99Ms: round(lagP99Ms, 2),
    }),
  );
}
