/**
 * `npm run bench -- SUITE`: runs one benchmark suite. Each prints a readable table and, as its
 * LAST line, one JSON object whose fields stay stable so progress can be tracked across runs.
 */
const suites: Record<string, () => Promise<{ main(args: string[]): Promise<void> }>> = {
  wire: () => import('./wireBench.js'),
  ca: () => import('./caBench.js'),
  line: () => import('./lineBench.js'),
  sync: () => import('./syncBench.js'),
};

const [name, ...args] = process.argv.slice(2);
const load = name === undefined ? undefined : suites[name];
if (!load) {
  console.error(`usage: npm run bench -- <suite>   (suites: ${Object.keys(suites).join(', ')})`);
  process.exit(2);
}
await (await load()).main(args);
