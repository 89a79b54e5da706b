import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identityDevice, type TpmIdentitySide } from './softwareTpmIdentity.js';
import { commandPath, step } from './tpmTool.js';

/**
 * A real TPM 2.0 for tests: swtpm, manufactured by swtpm_setup the way a TPM vendor's factory
 * would (RSA and ECC EKs made and persisted, their EK certificates written to NV and the NV
 * locked), with its own local CA, started on free local ports and read with tpm2-tools.
 * **Test material only.**
 *
 * Everything lives in one temporary folder, the local CA's keys included: the swtpm_setup.conf
 * and swtpm-localca.conf written there point swtpm_localca at that folder, so the machine's
 * /var/lib/swtpm-localca is never created or touched. Every wait is bounded.
 */

const TOOLS = [
  'swtpm',
  'swtpm_setup',
  'swtpm_localca',
  'tpm2_readpublic',
  'tpm2_nvread',
  'tpm2_createek',
  'tpm2_flushcontext',
  'tpm2_getcap',
  'tpm2_createprimary',
  'tpm2_evictcontrol',
  'tpm2_startauthsession',
  'tpm2_policysecret',
  'tpm2_activatecredential',
  'tpm2_import',
  'tpm2_load',
  'tpm2_hmac',
];
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** Why the swtpm tests cannot run here, or undefined when every tool is on PATH. */
export const softwareTpmMissing: string | undefined = (() => {
  const missing = TOOLS.filter((tool) => commandPath(tool) === undefined);
  return missing.length === 0
    ? undefined
    : `${missing.join(', ')} not found on PATH; scripts/install-test-deps.sh installs swtpm, swtpm-tools and tpm2-tools`;
})();

/** The persistent handles and NV indices swtpm_setup uses (TCG EK Credential Profile 2.0). */
export const SWTPM_EK = {
  rsa: { handle: '0x81010001', certificateIndex: '0x01c00002' },
  /** swtpm's ECC EK is NIST P-384 (the high-range template), not the P-256 of template L-2. */
  ecc: { handle: '0x81010016', certificateIndex: '0x01c00016' },
} as const;

export interface SoftwareTpm extends TpmIdentitySide {
  /** The local CA that signed the EK certificates: its root and its issuing (intermediate) CA. */
  localCaRootPem: string;
  localCaIntermediatePem: string;
  /** TPM2_ReadPublic of a persistent handle, as tpm2-tools writes it (TPM2B_PUBLIC). */
  readPublic(handle: string): Promise<Uint8Array>;
  /** TPM2_CreatePrimary from the default EK template (`tpm2_createek -G rsa|ecc384`). */
  createEk(algorithm: 'rsa' | 'ecc384'): Promise<Uint8Array>;
  /** The whole contents of an NV index. */
  nvRead(index: string): Promise<Uint8Array>;
  /** Stops swtpm and removes the folder. */
  stop(): Promise<void>;
}

/** Manufactures a TPM in a fresh temporary folder and starts it. */
export async function startSoftwareTpm(): Promise<SoftwareTpm> {
  const dir = await mkdtemp(join(tmpdir(), 'line-station-swtpm-'));
  let swtpm: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    if (swtpm && swtpm.exitCode === null && swtpm.signalCode === null) {
      const exited = once(swtpm, 'exit');
      swtpm.kill('SIGTERM');
      const timer = setTimeout(() => swtpm?.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await manufacture(dir);
    const port = await freePortPair();
    swtpm = spawn(
      'swtpm',
      [
        'socket',
        '--tpm2',
        '--tpmstate',
        `dir=${join(dir, 'state')}`,
        '--server',
        `type=tcp,port=${port},bindaddr=127.0.0.1`,
        '--ctrl',
        `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
        '--flags',
        'not-need-init,startup-clear',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    swtpm.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await untilListening(port, swtpm, () => stderr);
    // tpm2-tools' swtpm TCTI finds the control channel at port + 1.
    const env = { ...process.env, TPM2TOOLS_TCTI: `swtpm:host=127.0.0.1,port=${port}` };
    const tool = async (command: string, args: string[], output: string): Promise<Uint8Array> => {
      await step(command, args, { env });
      return new Uint8Array(await readFile(output));
    };
    let files = 0;
    const output = (name: string): string => join(dir, `${name}-${++files}`);
    const readPublic = (handle: string): Promise<Uint8Array> => {
      const out = output('public');
      return tool('tpm2_readpublic', ['-c', handle, '-o', out], out);
    };
    const device = identityDevice({ env, output, readPublic, ekHandle: SWTPM_EK.rsa.handle });
    return {
      localCaRootPem: await readFile(join(dir, 'localca', 'swtpm-localca-rootca-cert.pem'), 'utf8'),
      localCaIntermediatePem: await readFile(join(dir, 'localca', 'issuercert.pem'), 'utf8'),
      readPublic,
      async createEk(algorithm) {
        const out = output('ek');
        const ekPublic = await tool(
          'tpm2_createek',
          ['-c', `${out}.ctx`, '-G', algorithm, '-u', out],
          out,
        );
        // The TPM has room for three loaded objects; the EK made here is not needed after.
        await step('tpm2_flushcontext', ['-t'], { env });
        return ekPublic;
      },
      nvRead(index) {
        const out = output('nv');
        return tool('tpm2_nvread', [index, '-o', out], out);
      },
      ...device,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** swtpm_setup with a private configuration, so the local CA's state stays in `dir`. */
async function manufacture(dir: string): Promise<void> {
  const localCa = join(dir, 'localca');
  await mkdir(join(dir, 'state'));
  await mkdir(localCa);
  await writeFile(
    join(dir, 'swtpm-localca.conf'),
    [
      `statedir = ${localCa}`,
      `signingkey = ${join(localCa, 'signkey.pem')}`,
      `issuercert = ${join(localCa, 'issuercert.pem')}`,
      `certserial = ${join(localCa, 'certserial')}`,
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'swtpm-localca.options'),
    '--platform-manufacturer LineStationTest\n--platform-version 2.1\n--platform-model swtpm\n',
  );
  await writeFile(
    join(dir, 'swtpm_setup.conf'),
    [
      `create_certs_tool = ${commandPath('swtpm_localca')}`,
      `create_certs_tool_config = ${join(dir, 'swtpm-localca.conf')}`,
      `create_certs_tool_options = ${join(dir, 'swtpm-localca.options')}`,
      'active_pcr_banks = sha256',
      '',
    ].join('\n'),
  );
  await step(
    'swtpm_setup',
    [
      '--tpm2',
      '--tpmstate',
      join(dir, 'state'),
      '--create-ek-cert',
      '--lock-nvram',
      '--config',
      join(dir, 'swtpm_setup.conf'),
      '--logfile',
      join(dir, 'setup.log'),
    ],
    // Its user configuration folder too, in case a tool looks there.
    { env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'config') } },
    join(dir, 'setup.log'),
  );
}

/** Two free consecutive TCP ports on 127.0.0.1 (server and control channel). */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await listenOn(0);
    if (first === undefined) continue;
    const second = await listenOn(first.port + 1);
    await first.close();
    if (second === undefined) continue;
    await second.close();
    return first.port;
  }
  throw new Error('no two consecutive free TCP ports found on 127.0.0.1');
}

async function listenOn(
  port: number,
): Promise<{ port: number; close: () => Promise<void> } | undefined> {
  const server = createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
  } catch {
    return undefined;
  }
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return { port: bound, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Resolves once swtpm accepts connections on `port`; rejects if it exits or takes too long. */
async function untilListening(
  port: number,
  child: ChildProcess,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`swtpm exited (${String(code)}) before listening: ${stderr()}`);
  });
  exited.catch(() => undefined);
  for (;;) {
    const connected = await Promise.race([tryConnect(port), exited]);
    if (connected) return;
    if (Date.now() > deadline)
      throw new Error(`swtpm did not listen on ${port} within ${READY_TIMEOUT_MS} ms`);
    // A refused connection comes back at once; give swtpm a moment to bind before the next try.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function tryConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
