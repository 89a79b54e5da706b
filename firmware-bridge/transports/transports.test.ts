import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WireError } from '../codec/wireErrors.js';
import type { BindingInterface } from './bindingTypes.js';
import { createTransport } from './openTransport.js';
import { discoverPorts } from './portDiscovery.js';
import { SerialTransport } from './serialTransport.js';
import { TtySerialTransport } from './ttySerialTransport.js';
import { parseTcpPath, TcpTransport } from './tcpTransport.js';
import type { Transport } from './transport.js';

// The mock binding ships its types only for CommonJS consumers; load it the same way.
type MockBindingModule = typeof import('@serialport/binding-mock', {
  with: { 'resolution-mode': 'require' },
});
const { MockBinding } = createRequire(import.meta.url)(
  '@serialport/binding-mock',
) as MockBindingModule;

function nextData(t: Transport): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const dispose = t.onData((bytes) => {
      dispose();
      resolve(bytes);
    });
  });
}

function nextClose(t: Transport): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const dispose = t.onClose((err) => {
      dispose();
      resolve(err);
    });
  });
}

describe('SerialTransport with an injected binding', () => {
  afterEach(() => MockBinding.reset());

  it('opens, writes and reads through the binding', async () => {
    MockBinding.createPort('/dev/ttyMOCK0', { echo: true });
    const t = new SerialTransport({ path: '/dev/ttyMOCK0', binding: MockBinding });
    await t.open();
    expect(t.isOpen).toBe(true);
    const data = nextData(t);
    await t.write(new Uint8Array([1, 2, 3, 0]));
    expect([...(await data)]).toEqual([1, 2, 3, 0]);
    const closed = nextClose(t);
    await t.close();
    expect(await closed).toBeUndefined();
  });

  it('reports a port that cannot be opened as WIRE_PORT_OPEN_FAILED', async () => {
    const t = new SerialTransport({ path: '/dev/ttyNOPE9', binding: MockBinding });
    const err = await t.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WireError);
    expect((err as WireError).code).toBe('WIRE_PORT_OPEN_FAILED');
  });
});

describe('TcpTransport', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  async function listen(onSocket: (s: Socket) => void): Promise<number> {
    server = createServer(onSocket);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return (server.address() as { port: number }).port;
  }

  it('carries bytes both ways and reports the server going away', async () => {
    let serverSide: Socket | undefined;
    const port = await listen((s) => {
      serverSide = s;
      s.on('data', (d) => s.write(d));
    });
    const t = createTransport(`tcp://127.0.0.1:${port}`);
    expect(t).toBeInstanceOf(TcpTransport);
    await t.open();
    const data = nextData(t);
    await t.write(new Uint8Array([9, 8, 7]));
    expect([...(await data)]).toEqual([9, 8, 7]);
    const closed = nextClose(t);
    serverSide!.destroy();
    expect(await closed).toBeInstanceOf(Error);
  });

  it('fails to open with WIRE_SERVER_UNREACHABLE, naming the server, when nothing listens', async () => {
    const port = await listen(() => undefined);
    server!.close();
    const err = await createTransport(`tcp://127.0.0.1:${port}`)
      .open()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'WIRE_SERVER_UNREACHABLE',
      message: expect.stringContaining('serial device server') as string,
    });
  });

  it('parses tcp:// paths and refuses other schemes', () => {
    expect(parseTcpPath('tcp://10.0.0.5:4001')).toEqual({ host: '10.0.0.5', port: 4001 });
    expect(parseTcpPath('tcp://[::1]:4001')).toEqual({ host: '::1', port: 4001 });
    expect(parseTcpPath('tcp://host:99999')).toBeUndefined();
    expect(parseTcpPath('/dev/ttyUSB0')).toBeUndefined();
    expect(() => createTransport('rfc2217://host:4001')).toThrow(/unsupported port address/);
    // Linux drives the OS binding's ports through tty streams; a given binding gets its stream.
    expect(createTransport('/dev/ttyUSB0')).toBeInstanceOf(
      process.platform === 'linux' ? TtySerialTransport : SerialTransport,
    );
    expect(createTransport('/dev/ttyUSB0', { binding: MockBinding })).toBeInstanceOf(
      SerialTransport,
    );
  });
});

describe('discoverPorts', () => {
  afterEach(() => MockBinding.reset());

  it('uses the OS list when it works and adds configured paths', async () => {
    MockBinding.createPort('/dev/ttyUSB7', { manufacturer: 'FTDI', vendorId: '0403' });
    const result = await discoverPorts({
      binding: MockBinding,
      configured: ['tcp://127.0.0.1:4001', '/dev/ttyUSB7'],
    });
    expect(result.method).toBe('os');
    expect(result.warning).toBeUndefined();
    expect(result.ports).toEqual([
      expect.objectContaining({
        path: '/dev/ttyUSB7',
        source: 'os',
        manufacturer: 'FTDI',
        vendorId: '0403',
      }),
      { path: 'tcp://127.0.0.1:4001', source: 'configured' },
    ]);
  });

  it('falls back to scanning /dev when the OS list fails, and says why', async () => {
    const dev = await mkdtemp(join(tmpdir(), 'ls-dev-'));
    for (const name of ['ttyUSB10', 'ttyUSB2', 'ttyACM0', 'ttyS0', 'tty1', 'null', 'ttyAMA0']) {
      await writeFile(join(dev, name), '');
    }
    const failing = {
      ...MockBinding,
      list: () => Promise.reject(new Error('udevadm: command not found')),
    } as unknown as BindingInterface;
    const result = await discoverPorts({
      binding: failing,
      devDir: dev,
      sysClassTtyDir: join(dev, 'no-sys'),
      platform: 'linux',
      configured: ['COM7'],
    });
    expect(result.method).toBe('scan');
    expect(result.warning).toMatch(/udevadm: command not found/);
    // ttyS0 without a real driver is a kernel placeholder and is left out.
    expect(result.ports.map((p) => p.path)).toEqual([
      join(dev, 'ttyACM0'),
      join(dev, 'ttyAMA0'),
      join(dev, 'ttyUSB2'),
      join(dev, 'ttyUSB10'),
      'COM7',
    ]);
  });

  it('keeps configured ports when no scan is possible', async () => {
    const failing = {
      ...MockBinding,
      list: () => Promise.reject(new Error('no access')),
    } as unknown as BindingInterface;
    const result = await discoverPorts({
      binding: failing,
      platform: 'win32',
      configured: ['COM7'],
    });
    expect(result.method).toBe('configured-only');
    expect(result.ports).toEqual([{ path: 'COM7', source: 'configured' }]);
  });
});
