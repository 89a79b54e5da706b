// Prints the plain closing line "N passed, N failed, N skipped" from vitest's JSON report, so a
// reader of CI output (human or tool) sees the count without parsing vitest's styled summary.
// A test file that failed before any of its tests ran (an error in its setup) counts no test, so
// it is named on a line of its own: otherwise the line would read "0 failed" over a red run.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

const REPORT = 'test-artifacts/vitest-results.json';
if (!existsSync(REPORT)) {
  // npm test stopped before vitest wrote its report (an install failed, a build broke).
  console.log('no test results: npm test stopped before the tests reported');
  process.exit(1);
}
const report = JSON.parse(readFileSync(REPORT, 'utf8'));
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
const brokenFiles = report.testResults.filter(
  (file) => file.status === 'failed' && file.assertionResults.every((t) => t.status !== 'failed'),
);
for (const file of brokenFiles) {
  const why = (file.message ?? '').split('\n')[0];
  console.log(`failed before its tests ran: ${relative(process.cwd(), file.name)}: ${why}`);
}
if (report.numTotalTests === 0 || brokenFiles.length > 0) process.exitCode = 1;
// Suites skip themselves where a tool they drive is missing (chromium, socat, swtpm): fine on a
// developer's machine, but under CI a skip would pass a run that never looked.
if (process.env.CI === 'true' && skipped > 0) {
  console.log(`${skipped} test(s) skipped under CI: a tool the tests drive is missing`);
  process.exitCode = 1;
}
