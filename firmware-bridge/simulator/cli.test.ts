import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceSession } from '../session/deviceSession.js';
import { createTransport } from '../transports/openTransport.js';
import { arbitraryBytes } from './testKit.js';

const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const children: ReturnType<typeof spawn>[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A --tpm-dir holding the given files. */
async function tpmDir(files: Record<string, Uint8Array>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sim-cli-tpm-'));
  dirs.push(dir);
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, name), bytes);
  return dir;
}

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  // 'close', not 'exit': the output read after it must be complete.
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => resolve(code)),
  );
  /** Resolves with stdout once it contains `text`. */
  const printed = (text: string) =>
    new Promise<string>((resolve, reject) => {
      const check = () => stdout.includes(text) && resolve(stdout);
      child.stdout.on('data', check);
      child.once('exit', () => reject(new Error(`exited before printing "${text}": ${stderr}`)));
      check();
    });
  return { child, exited, printed, output: () => ({ stdout, stderr }) };
}

describe('npm run simulate', () => {
  it('prints the device table, serves the devices and stops cleanly on SIGINT', async () => {
    const sim = run(['--devices', '2', '--tcp', '--baud', '0']);
    const table = await sim.printed('Ctrl-C to stop');
    const paths = [...table.matchAll(/tcp:\/\/127\.0\.0\.1:\d+/g)].map((m) => m[0]);
    expect(table).toMatch(/SIM000001/);
    expect(paths).toHaveLength(2);
    const session = await DeviceSession.open(createTransport(paths[1]!));
    expect((await session.identify()).serialNumber).toBe('SIM000002');
    await session.close();
    sim.child.kill('SIGINT');
    expect(await sim.exited).toBe(0);
  });

  it('rejects a bad value with a clear message and exit code 2', async () => {
    const sim = run(['--devices', 'many']);
    expect(await sim.exited).toBe(2);
    expect(sim.output().stderr).toContain('--devices must be a number from 1 to 256, got "many"');
  });

  it('refuses a negative number with the range it takes, not as an ambiguous option', async () => {
    // node:util parseArgs reads "-1" as an option of its own: the range check must still answer.
    const [devices, seed] = [run(['--devices', '-1']), run(['--seed', '-5'])];
    expect(await devices.exited).toBe(2);
    expect(devices.output().stderr).toContain('--devices must be a number from 1 to 256, got "-1"');
    expect(await seed.exited).toBe(2);
    expect(seed.output().stderr).toContain(
      '--seed must be a number from 0 to 4294967295, got "-5"',
    );
  });

  it('refuses TCP port options that cannot be served as usage errors (exit code 2)', async () => {
    // The last device would need port 65536.
    const past = run(['--devices', '2', '--tcp', '--tcp-port', '65535']);
    expect(await past.exited).toBe(2);
    expect(past.output().stderr).toContain('--tcp-port 65535 leaves no port for device 2');
    // Without --tcp the devices are on ptys: the port would be silently ignored.
    const pty = run(['--tcp-port', '4001']);
    expect(await pty.exited).toBe(2);
    expect(pty.output().stderr).toContain('--tcp-port needs --tcp');
  });

  it('--tpm-dir gives device S the TPM in S.ekpub and S.ekcert', async () => {
    const first = { ekPublic: arbitraryBytes(314, 1), ekCertificate: arbitraryBytes(1300, 2) };
    const second = { ekPublic: arbitraryBytes(280, 3) };
    const dir = await tpmDir({
      'SIM000001.ekpub': first.ekPublic,
      'SIM000001.ekcert': first.ekCertificate,
      'SIM000002.ekpub': second.ekPublic,
    });
    const sim = run(['--devices', '2', '--tcp', '--baud', '0', '--tpm-dir', dir]);
    const table = await sim.printed('Ctrl-C to stop');
    expect(table).toContain(`tpm:   ${dir}`);
    const paths = [...table.matchAll(/tcp:\/\/127\.0\.0\.1:\d+/g)].map((m) => m[0]);
    for (const [path, expected] of [
      [paths[0]!, first],
      [paths[1]!, second],
    ] as const) {
      const session = await DeviceSession.open(createTransport(path));
      expect((await session.identify()).features.tpm).toBe(true);
      expect(await session.request('GET_EK', {})).toEqual(expected);
      await session.close();
    }
    sim.child.kill('SIGINT');
    expect(await sim.exited).toBe(0);
  });

  it("--tpm-dir without a device's .ekpub fails the start naming the file (exit code 1)", async () => {
    const dir = await tpmDir({ 'SIM000001.ekpub': arbitraryBytes(314) });
    const sim = run(['--devices', '2', '--tcp', '--tpm-dir', dir]);
    expect(await sim.exited).toBe(1);
    expect(sim.output().stderr).toContain(`simulate: ${join(dir, 'SIM000002.ekpub')} not found`);
    expect(sim.output().stdout).not.toContain('Ctrl-C to stop');
  });

  it('documents --tpm-dir and the file names it expects in --help', async () => {
    const sim = run(['--help']);
    expect(await sim.exited).toBe(0);
    const { stdout } = sim.output();
    expect(stdout).toContain('--tpm-dir DIR');
    expect(stdout).toContain('DIR/S.ekpub');
    expect(stdout).toContain('DIR/S.ekcert');
    expect(stdout).toContain('SIM000001 for device 1');
  });
});
