import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceSession } from '../session/deviceSession.js';
import { createTransport } from '../transports/openTransport.js';

const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
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
});
