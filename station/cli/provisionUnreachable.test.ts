import { mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeRealLineFolder } from '../../test/e2e/realLineFolder.js';
import { provision } from './provisionCommand.js';

const PASSPHRASE = 'rework bench passphrase';
let dataDir: string;
let profilesFile: string;

beforeAll(async () => {
  ({ dataDir, profilesFile } = await makeRealLineFolder(4, PASSPHRASE));
}, 30_000);
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** Runs `station provision` on `device`; returns its exit code and what it printed. */
async function provisionOn(device: string): Promise<{ code: number; said: string }> {
  vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((text: string) => void lines.push(text));
  vi.spyOn(console, 'error').mockImplementation((text: string) => void lines.push(text));
  const args = ['--profiles', profilesFile, '--data-dir', dataDir, '--device', device];
  const code = await provision(args);
  return { code, said: lines.join('\n') };
}

/** A TCP port on 127.0.0.1 that nothing listens on: bound by us, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve, reject) =>
    server.close((err) => (err ? reject(err) : resolve())),
  );
  return port;
}

// Not 1: a rework bench's script reads 1 as "this board failed" and sets a good board aside.
describe('station provision on a device it cannot reach exits 3: no device was tried', () => {
  it('says that a path that does not exist is not there', async () => {
    const port = join(dataDir, 'ttyUSB9');
    const { code, said } = await provisionOn(port);
    expect(code).toBe(3);
    expect(said).toMatch(/^station: .+ \[LINE_PORT_ABSENT\]$/m);
    expect(said).toContain(
      `detail: slot 1 ${port}: there is no ${port} on this machine; check the path (station ports lists the ports this machine has), the cable or the adapter`,
    );
  }, 30_000);

  it('says so for a path it cannot open (a folder)', async () => {
    const folder = join(dataDir, 'not-a-tty');
    await mkdir(folder);
    const { code, said } = await provisionOn(folder);
    expect(code).toBe(3);
    expect(said).toContain('[WIRE_PORT_OPEN_FAILED]');
    expect(said).toContain(`The station could not reach ${folder}: the device was not tried.`);
  }, 30_000);

  it('says so for a serial server at tcp://HOST:PORT that refuses the connection', async () => {
    const device = `tcp://127.0.0.1:${await closedPort()}`;
    const { code, said } = await provisionOn(device);
    expect(code).toBe(3);
    expect(said).toContain('[WIRE_SERVER_UNREACHABLE]');
    expect(said).toContain(`The station could not reach ${device}: the device was not tried.`);
  }, 30_000);
});
