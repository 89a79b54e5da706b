/**
 * One line per data folder. A second `start` or `serve` of a folder a line already served ran
 * beside it: FAIL WIRE_PORT_OPEN_FAILED runs for the ports the first held, serving.json written
 * over, and taken back on Ctrl-C while the first still ran. Real processes of the CLI, a real
 * CA and saved line, the real serving.json and serving.lock; a SIGKILL for the stale case.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logFolder, LOG_FILE_NAME } from '../production/stationLogFile.js';
import { servingClaimFile, servingStationFile } from '../sync/servingStation.js';
import { savedLineEachTest } from './testing/savedLineEachTest.js';
import { stationProcess, type StationProcess } from './testing/stationProcess.js';

const PASSPHRASE = 'line seven passphrase';
const SERVING = /Line Station is serving its UI|so Line Station runs the line saved in/;
const saved = savedLineEachTest(7, PASSPHRASE);

/** `station <command>` of the saved line; `passphrase` false gives it none (stdin then ends). */
function station(command: string[], passphrase = true): StationProcess {
  const run = stationProcess([...command, '--data-dir', saved.folder.dataDir], {
    LINE_STATION_DATA: undefined,
    ...(passphrase && { LINE_STATION_CA_PASSPHRASE: PASSPHRASE }),
  });
  if (!passphrase) run.child.stdin.end();
  saved.started.push(run);
  return run;
}

const servingPid = (): number =>
  (JSON.parse(readFileSync(servingStationFile(saved.folder.dataDir), 'utf8')) as { pid: number })
    .pid;

describe('a second start of a data folder a line serves', () => {
  it('is refused with its code, naming the line that serves, before the passphrase and any port', async () => {
    const first = station(['serve']);
    await first.waitFor(SERVING, 'stdout');
    const pid = first.child.pid!;
    expect(servingPid()).toBe(pid);

    // Given no passphrase: refused for the folder, not for the passphrase it never asked for.
    const viaStart = station(['start', '--headless'], false);
    const viaServe = station(['serve']);
    expect(await viaStart.exited).toBe(1);
    expect(await viaServe.exited).toBe(1);
    for (const refused of [viaStart, viaServe]) {
      const text = refused.stderr().replace(/\s+/g, ' ');
      expect(text).toMatch(
        new RegExp(
          `^station: Line Station already serves the data folder ${saved.folder.dataDir}: process ${pid}, since \\d{4}-\\d\\d-\\d\\dT\\S+Z\\. This one did not start, asked for no passphrase and opened no port: .*kill ${pid}\\) and start again\\. If no station runs on this folder, delete ${servingStationFile(saved.folder.dataDir)} and start again\\. \\[STATION_ALREADY_SERVING\\] $`,
        ),
      );
      expect(refused.stdout()).not.toMatch(SERVING);
    }
    // The first's record is still its own, and the refusals are in the folder's log.
    expect(servingPid()).toBe(pid);
    const log = await readFile(join(logFolder(saved.folder.dataDir), LOG_FILE_NAME), 'utf8');
    expect(log.match(/did not start .*\(STATION_ALREADY_SERVING\)/g)).toHaveLength(2);

    // Stopped, the first takes back its record and its claim; the folder starts again.
    expect(await first.stop()).toBe(0);
    expect(existsSync(servingStationFile(saved.folder.dataDir))).toBe(false);
    expect(existsSync(servingClaimFile(saved.folder.dataDir))).toBe(false);
    const again = station(['start', '--headless']);
    await again.waitFor(SERVING, 'stdout');
    expect(await again.stop()).toBe(0);
  }, 120_000);

  it('is not refused for the record and claim of a line that was killed', async () => {
    const killed = station(['serve']);
    await killed.waitFor(SERVING, 'stdout');
    killed.child.kill('SIGKILL');
    await killed.exited;
    // SIGKILL leaves both behind, naming a process that no longer runs.
    expect(servingPid()).toBe(killed.child.pid);
    expect(existsSync(servingClaimFile(saved.folder.dataDir))).toBe(true);

    const next = station(['serve']);
    await next.waitFor(SERVING, 'stdout');
    expect(servingPid()).toBe(next.child.pid);
    expect(await next.stop()).toBe(0);
  }, 120_000);

  it('lets one of two starts at once serve, and refuses the other', async () => {
    const both = [station(['serve']), station(['start', '--headless'])];
    const outcomes = await Promise.all(
      both.map((run) =>
        Promise.race([
          run.waitFor(SERVING, 'stdout').then(() => 'serving'),
          run.exited.then((code) => `exit ${code}: ${run.stderr()}`),
        ]),
      ),
    );
    const serving = outcomes.filter((outcome) => outcome === 'serving');
    const refused = outcomes.filter((outcome) => outcome !== 'serving');
    expect(serving).toHaveLength(1);
    expect(refused).toEqual([expect.stringMatching(/^exit 1: .*\[STATION_ALREADY_SERVING\]/s)]);
    const winner = both[outcomes.indexOf('serving')]!;
    expect(servingPid()).toBe(winner.child.pid);
    expect(await winner.stop()).toBe(0);
  }, 120_000);
});
