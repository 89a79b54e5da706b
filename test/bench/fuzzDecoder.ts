/**
 * `npm run fuzz -- --inputs 1000000 [--seed N]`: one property run of the streaming frame decoder
 * over fuzzed inputs (garbage, corrupted frames, intact frames, arbitrary chunking). Prints a
 * table and, as the last line, one JSON object.
 */
import { parseArgs } from 'node:util';
import { runDecoderFuzz } from './decoderFuzz.js';

const { values } = parseArgs({
  options: { inputs: { type: 'string', default: '1000000' }, seed: { type: 'string' } },
});
const inputs = Number(values.inputs);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
if (!Number.isInteger(inputs) || inputs < 1 || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- [--inputs N] [--seed N]');
  process.exit(2);
}

console.log(`Fuzzing the frame decoder with ${inputs.toLocaleString('en')} inputs (seed ${seed})`);
// Live progress only on a terminal: piped output (CI logs, tracking) stays one line per fact.
const progress = process.stdout.isTTY
  ? (done: number) => process.stdout.write(`  ${done.toLocaleString('en')} inputs\r`)
  : undefined;
const report = runDecoderFuzz(inputs, seed, progress);
const rows: [string, string][] = [
  ['inputs', report.inputs.toLocaleString('en')],
  ['bytes decoded', report.bytes.toLocaleString('en')],
  ['intact frames expected', report.framesExpected.toLocaleString('en')],
  ['frames accepted', report.framesAccepted.toLocaleString('en')],
  ['false accepts', String(report.falseAccepts)],
  ['crashes', String(report.crashes)],
  ...Object.entries(report.rejected).map(([k, v]): [string, string] => [
    `rejected: ${k}`,
    v.toLocaleString('en'),
  ]),
  ['seconds', report.seconds.toFixed(1)],
];
console.log('');
for (const [k, v] of rows) console.log(`${k.padEnd(26)} ${v.padStart(14)}`);
console.log(JSON.stringify({ suite: 'fuzz', seed, ...report }));
