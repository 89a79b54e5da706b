// Prints the plain closing line "N passed, N failed, N skipped" from vitest's JSON report, so a
// reader of CI output (human or tool) sees the count without parsing vitest's styled summary; it
// is always the last line. Before it: a test file that failed before any of its tests ran (an
// error in its setup) counts no test, so it is named on a line of its own, or the count would
// read "0 failed" over a red run; and each skipped test is named, since a suite skips itself
// where the machine lacks what it drives (chromium, socat, a tmpfs mount), and a skip under CI
// is a test that never looked.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

const REPORT = 'test-artifacts/vitest-results.json';
if (!existsSync(REPORT)) {
  // npm test stopped before vitest wrote its report (an install failed, a build broke).
  console.log('no test results: npm test stopped before the tests reported');
  console.log('0 passed, 0 failed, 0 skipped');
  process.exit(1);
}
const report = JSON.parse(readFileSync(REPORT, 'utf8'));
const skipped = report.numPendingTests + report.numTodoTests;
const brokenFiles = report.testResults.filter(
  (file) => file.status === 'failed' && file.assertionResults.every((t) => t.status !== 'failed'),
);
for (const file of brokenFiles) {
  const why = (file.message ?? '').split('\n')[0];
  console.log(`failed before its tests ran: ${relative(process.cwd(), file.name)}: ${why}`);
}
for (const file of report.testResults) {
  for (const test of file.assertionResults) {
    if (test.status === 'pending' || test.status === 'skipped' || test.status === 'todo') {
      console.log(`skipped: ${relative(process.cwd(), file.name)}: ${test.fullName}`);
    }
  }
}
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
if (report.numTotalTests === 0 || brokenFiles.length > 0) process.exitCode = 1;
