import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { importIssuingCa } from '../../certs/ca/importIssuingCa.js';
import { OpensslPki } from '../../certs/ca/testing/opensslPki.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { commandHandlers, lineEvents } from '../api/commandHandlers.js';
import { createPipePair } from '../api/pipePair.js';
import { serveStationApi } from '../api/serveStationApi.js';
import { StationClient } from '../api/stationClient.js';
import { saveLine } from '../production/savedLine.js';
import { logFolder } from '../production/stationLogFile.js';
import { lineStation } from './lineStation.js';
import { zonedLocalTime } from './timeFlags.js';

/**
 * A CA that ends before the device certificates a profile asks for cuts every one of them to its
 * own end (leafValidity). That is right, but it was silent: a 30-day CA gave each device a 30-day
 * certificate, and only `ca status` said "expires soon". These tests import a 30-day CA made by
 * openssl, as a PKI team would hand it over, and hold the station to saying so at import, at the
 * line's start (console and station log) and in `ca status`, without refusing any of them.
 */

const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const CLI = join(process.cwd(), 'station', 'cli.ts');
const PASSPHRASE = 'new station passphrase';
const work = mkdtempSync(join(tmpdir(), 'ca-short-lived-'));
const pki = new OpensslPki(mkdtempSync(join(work, 'pki-')));
let folders = 0;
afterAll(() => rmSync(work, { recursive: true, force: true }));
afterEach(() => vi.unstubAllEnvs());

/** When the CA ends, as openssl reads it, in the station's local time as its texts give it. */
let shortEnds: string;

beforeAll(() => {
  pki.selfSigned('root', 'P-256', 'root', 'Customer Root');
  pki.issue('short', 'P-256', 'root', 'intermediate', 'Pilot Issuing CA', 30);
  pki.issue('long', 'P-256', 'root', 'intermediate', 'Customer Issuing CA');
  const endDate = pki.run('x509', '-in', 'short.pem', '-noout', '-enddate').split('=')[1]!.trim();
  shortEnds = zonedLocalTime(new Date(endDate).toISOString());
});

const profile = (name: string, validityDays?: number) => ({
  name,
  models: [`${name}-1`],
  dps: { idScope: '0ne0012AB34' },
  attestation: { mode: 'x509-device-key' },
  ...(validityDays !== undefined && { certificate: { validityDays } }),
});

/** A fresh data folder; with `profiles`, a saved line whose profiles file holds them. */
async function dataFolder(profiles?: object[]): Promise<{ dataDir: string; profilesFile: string }> {
  const dataDir = join(work, `station-${++folders}`);
  mkdirSync(dataDir, { mode: 0o700 });
  const profilesFile = join(dataDir, 'profiles.json');
  if (profiles !== undefined) {
    writeFileSync(profilesFile, JSON.stringify({ profiles }));
    await saveLine(dataDir, {
      version: 1,
      profiles: profilesFile,
      devices: ['/dev/ttyLS-ABSENT'],
      discover: false,
      baud: 115_200,
      mode: 'manual',
    });
  }
  return { dataDir, profilesFile };
}

/** Runs `station …` on `dataDir` with `input` piped, as the supervisor runs it. */
function station(
  dataDir: string,
  args: string[],
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LINE_STATION_DATA: dataDir };
  for (const name of ['LINE_STATION_CA_PASSPHRASE', 'LINE_STATION_IMPORT_PASSWORD']) {
    delete env[name];
  }
  const child = spawn(TSX, [CLI, ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const importPem = (dataDir: string, ca: string) => {
  const [cert, key, chain] = [`${ca}.pem`, `${ca}.key`, 'root.pem'].map((name) => pki.path(name));
  const args = ['ca', 'import', '--cert', cert!, '--key', key!, '--chain', chain!];
  return station(dataDir, args, `${PASSPHRASE}\n`);
};

/** The output with its line breaks and runs of spaces as single spaces, to match a sentence. */
const oneLine = (text: string) => text.replace(/\s+/g, ' ');

describe('a CA that ends before the certificates a profile asks for', () => {
  it('is imported with a warning, and `ca status` says what certificates issued today get', async () => {
    const unknown = await dataFolder();
    const saved = await dataFolder([profile('Sensor'), profile('Gateway', 3650)]);
    const long = await dataFolder([profile('Sensor')]);
    const [unknownImport, savedImport, longImport] = await Promise.all([
      importPem(unknown.dataDir, 'short'),
      importPem(saved.dataDir, 'short'),
      importPem(long.dataDir, 'long'),
    ]);
    // Not refused: a short-lived CA may be intended.
    for (const result of [unknownImport, savedImport, longImport]) {
      expect(result.stdout).toContain('Issuing CA imported');
      expect(result.code).toBe(0);
    }
    // No line saved yet (the usual order: the CA comes first): against the default validity.
    expect(oneLine(unknownImport.stderr)).toContain(
      `warning: this CA ends on ${shortEnds}, before the 1095 days device certificates get by default (no line is saved in this data folder yet, so the profiles are not known;`,
    );
    expect(oneLine(unknownImport.stderr)).toContain(
      `Certificates issued with it end with the CA, on ${shortEnds}, not 1095 days after they are issued.`,
    );
    // A saved line: against the longest validity of its profiles file.
    expect(oneLine(savedImport.stderr)).toContain(
      `warning: this CA ends on ${shortEnds}, before the 3650 days profile "Gateway" asks for its device certificates (the longest in ${saved.profilesFile}).`,
    );
    expect(longImport.stderr).toBe('');

    const status = (dataDir: string) => station(dataDir, ['ca', 'status']);
    const [unknownStatus, savedStatus, longStatus] = await Promise.all([
      status(unknown.dataDir),
      status(saved.dataDir),
      status(long.dataDir),
    ]);
    expect(oneLine(unknownStatus.stdout)).toContain(
      `warning: certificates issued today end on ${shortEnds} with the CA, not in 1095 days as a profile asks by default:`,
    );
    for (const [name, days] of [
      ['Sensor', 1095],
      ['Gateway', 3650],
    ] as const) {
      expect(oneLine(savedStatus.stdout)).toContain(
        `warning: certificates issued today end on ${shortEnds} with the CA, not in ${days} days as profile "${name}" asks:`,
      );
    }
    expect(longStatus.stdout).not.toContain('warning');
    // Its end in local time with the offset, as every time a command prints.
    expect(unknownStatus.stdout).toContain(`valid until   ${shortEnds} (`);
    for (const result of [unknownStatus, savedStatus, longStatus]) expect(result.code).toBe(0);
  }, 90_000);

  it('is named at the line start, on the console, in the station log and in the UI notes, and the line runs', async () => {
    const started = async (ca: string) => {
      const { dataDir, profilesFile } = await dataFolder();
      writeFileSync(profilesFile, JSON.stringify({ profiles: [profile('Sensor')] }));
      await importIssuingCa(join(dataDir, 'ca'), {
        certificatePem: pki.text(`${ca}.pem`),
        privateKeyPem: pki.text(`${ca}.key`),
        chainPem: pki.text('root.pem'),
        wrapper: new PassphraseKeyWrapper(PASSPHRASE, { scrypt: { N: 1024 } }),
      });
      vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
      const factory = await lineStation(
        {
          dataDir,
          profilesFile,
          ports: ['/dev/ttyLS-ABSENT'],
          discover: false,
          baudRate: 115_200,
        },
        'manual',
      );
      const printed: string[] = [];
      const running = await factory({ log: (line) => printed.push(line) });
      // The UI's notes panel, as the UI gets it: the snapshot through the API's contract.
      const [stationEnd, clientEnd] = createPipePair();
      const serving = serveStationApi(stationEnd, {
        handlers: commandHandlers(running.line, { local: true }),
        events: lineEvents(running.line),
      });
      const client = new StationClient(clientEnd);
      const snapshot = await client.call('snapshot');
      client.close();
      serving();
      const notes = running.line.status().notes;
      await running.stop();
      return {
        printed: printed.join('\n'),
        log: readFileSync(join(logFolder(dataDir), 'station.log'), 'utf8'),
        notes,
        uiNotes: snapshot.status.notes,
      };
    };
    const short = await started('short');
    const warning = `Warning: certificates issued today end on ${shortEnds} with the CA, not in 1095 days as profile "Sensor" asks: no certificate outlives the CA that signs it.`;
    expect(short.printed).toContain('Line ready');
    expect(short.printed).toContain(warning);
    expect(short.log).toContain(warning);
    // Not only at the start: the line's notes, and so every UI, say it while it holds.
    const note = `Certificates issued today end on ${shortEnds} with the CA, not in 1095 days as profile "Sensor" asks: no certificate outlives the CA that signs it.`;
    expect(short.notes).toContainEqual(expect.stringContaining(note));
    expect(short.uiNotes).toContainEqual(expect.stringContaining(note));
    const long = await started('long');
    expect(long.printed).toContain('Line ready');
    expect(long.printed).not.toContain('Warning');
    expect(long.uiNotes.join('\n')).not.toContain('Certificates issued today');
  }, 60_000);
});
