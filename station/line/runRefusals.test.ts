import { afterEach, describe, expect, it } from 'vitest';
import { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import { Simulator, type SimulatorOptions } from '../../firmware-bridge/simulator/simulator.js';
import { createTransport } from '../../firmware-bridge/transports/openTransport.js';
import type { ProductProfile } from '../profiles/productProfile.js';
import { runProvisioning, type RunOutcome } from './provisioningRun.js';
import {
  InMemoryRunRecorder,
  runOn,
  testCa,
  testProfile,
  testServices,
} from './testing/lineTestKit.js';

let simulator: Simulator | undefined;
afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

async function oneDevice(options: Partial<SimulatorOptions> = {}) {
  simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0, ...options });
  return simulator.devices[0]!;
}

async function runProfile(
  profile: ProductProfile,
  recorder = new InMemoryRunRecorder(),
  signal?: AbortSignal,
) {
  const device = simulator!.devices[0]!;
  const services = await testServices(profile);
  return runOn(device, { profile, recorder, services, ...(signal && { signal }) });
}

function codeOf(outcome: RunOutcome): string | undefined {
  return outcome.state === 'pass' ? undefined : outcome.error.code;
}

describe('validation refuses a device before anything is written to it', () => {
  it('refuses another model, disallowed firmware and a TPM profile on a device without one, each with its own code', async () => {
    const device = await oneDevice({ firmwareVersion: '1.3.9' });
    const recorder = new InMemoryRunRecorder();
    expect(codeOf(await runProfile(testProfile({ models: ['LS-OTHER-2'] }), recorder))).toBe(
      'RUN_MODEL_NOT_ALLOWED',
    );
    expect(codeOf(await runProfile(testProfile({ firmwareVersions: ['1.4.*'] }), recorder))).toBe(
      'RUN_FIRMWARE_NOT_ALLOWED',
    );
    const tpm = await runProfile(testProfile({ attestation: { mode: 'tpm' } }), recorder);
    expect(codeOf(tpm)).toBe('RUN_CAPABILITY_MISSING');
    expect(tpm.state === 'fail' && tpm.error.detail).toBe('tpm needs a TPM');
    expect(device.state.staged).toEqual({ config: {} });
    expect(recorder.failures.map((f) => f.steps.at(-1)?.step)).toEqual([
      'validate',
      'validate',
      'validate',
    ]);
    expect(recorder.passes).toHaveLength(0);

    // The same device passes a profile whose prefix pattern covers its firmware.
    const allowed = await runProfile(testProfile({ firmwareVersions: ['1.3.*'] }), recorder);
    expect(allowed.state).toBe('pass');
  });

  it('duplicate policy: refuse names the earlier run; reprovision supersedes it', async () => {
    await oneDevice();
    const recorder = new InMemoryRunRecorder();
    expect((await runProfile(testProfile(), recorder)).state).toBe('pass');
    const second = await runProfile(testProfile(), recorder);
    expect(codeOf(second)).toBe('RUN_DUPLICATE_DEVICE');
    expect(second.state === 'fail' && second.error.detail).toMatch(/run 1/);
    expect(recorder.passes).toHaveLength(1);

    const third = await runProfile(testProfile({ duplicates: 'reprovision' }), recorder);
    expect(third.state).toBe('pass');
    expect(recorder.passes).toHaveLength(2);
    expect(recorder.runs[2]!.supersedes?.runId).toBe(1);
  });
});

describe('verification catches a device that does not hold what was written', () => {
  /** A session whose device "answers" one request with altered data. */
  async function tamperedRun(
    tamper: 'GET_CONFIG' | 'SIGN_CHALLENGE',
    profile: ProductProfile,
    recorder: InMemoryRunRecorder,
  ) {
    const device = simulator!.devices[0]!;
    const session = await DeviceSession.open(createTransport(device.hostPath));
    try {
      return await runProvisioning({
        port: device.hostPath,
        profile,
        recorder,
        services: await testServices(profile),
        session: async () => {
          const request = session.request.bind(session);
          session.request = (async (name: never, req: never, options: never) => {
            const response = (await request(name, req, options)) as Record<string, unknown>;
            if (name !== tamper) return response;
            if (tamper === 'GET_CONFIG') return { ...response, idScope: '0ne0000FFFF' };
            const signature = Buffer.from(response.signature as Uint8Array);
            signature[signature.length - 1]! ^= 1;
            return { signature };
          }) as DeviceSession['request'];
          return session;
        },
      });
    } finally {
      await session.close();
    }
  }

  it.each([
    ['GET_CONFIG', 'x509-device-key', 'RUN_VERIFY_CONFIG_MISMATCH'],
    ['SIGN_CHALLENGE', 'x509-device-key', 'RUN_VERIFY_CHALLENGE_FAILED'],
    ['SIGN_CHALLENGE', 'symmetric-key-individual', 'RUN_VERIFY_CHALLENGE_FAILED'],
  ] as const)(
    'a tampered %s answer (%s) fails with %s and nothing is committed',
    async (tamper, mode, code) => {
      const device = await oneDevice();
      const recorder = new InMemoryRunRecorder();
      const outcome = await tamperedRun(tamper, testProfile({ attestation: { mode } }), recorder);
      expect(codeOf(outcome)).toBe(code);
      expect(device.state.identityState).toBe(0);
      expect(device.state.committed.config).toEqual({});
      expect(recorder.failures[0]?.steps.at(-1)?.step).toBe('verify');
      if (mode === 'x509-device-key') {
        const [issued] = await (await testCa()).ca.list({ registrationId: 'ls-demo-1-sim000001' });
        expect(recorder.failures[0]?.certificateSerial).toBe(issued?.serialNumber);
      }
    },
  );
});

describe('cancel and store failures', () => {
  it('an abort mid-run ends it cancelled; the device keeps its previous identity', async () => {
    const device = await oneDevice();
    const recorder = new InMemoryRunRecorder();
    const controller = new AbortController();
    const dispose = device.onRequest.on((event) => {
      if (event.name === 'GEN_KEY_CSR') controller.abort(new Error('operator'));
    });
    const outcome = await runProfile(testProfile(), recorder, controller.signal);
    dispose();
    expect(outcome.state).toBe('cancelled');
    expect(codeOf(outcome)).toBe('RUN_CANCELLED');
    expect(recorder.failures).toMatchObject([
      { state: 'cancelled', error: { code: 'RUN_CANCELLED' } },
    ]);
    expect(device.state.identityState).toBe(0);
    expect(device.state.committed.config).toEqual({});
  });

  it('a cancel while COMMIT is out fails the run as unconfirmed, since the device may have committed', async () => {
    const device = await oneDevice();
    const recorder = new InMemoryRunRecorder();
    const controller = new AbortController();
    // The device commits, but its answer is lost; the operator cancels meanwhile.
    void device.faults
      .stallDuringNext('COMMIT')
      .then(() => controller.abort(new Error('operator')));
    const profile = testProfile();
    const outcome = await runOn(device, {
      profile,
      recorder,
      services: await testServices(profile),
      signal: controller.signal,
      // COMMIT is waited for through its retries even after a cancel; keep them short here.
      sessionOptions: { timeoutScale: 0.05 },
    });
    expect(outcome.state).toBe('fail');
    expect(codeOf(outcome)).toBe('RUN_COMMIT_UNCONFIRMED');
    if (outcome.state === 'pass') return;
    expect(outcome.error.message).toMatch(/provision it again/);
    expect(outcome.error.detail).toMatch(/^cancelled while COMMIT was out/);
    expect(device.state.identityState).toBe(1);
    expect(recorder.passes).toHaveLength(0);
    expect(recorder.failures).toMatchObject([
      { state: 'fail', error: { code: 'RUN_COMMIT_UNCONFIRMED' } },
    ]);
  });

  it('a link that closed before COMMIT left fails with the unplug code, not as unconfirmed', async () => {
    const device = await oneDevice();
    const recorder = new InMemoryRunRecorder();
    const profile = testProfile();
    const session = await DeviceSession.open(createTransport(device.hostPath));
    let commitsSeen = 0;
    const disposeSeen = device.onRequest.on(({ name }) => {
      if (name === 'COMMIT') commitsSeen++;
    });
    try {
      const outcome = await runProvisioning({
        port: device.hostPath,
        profile,
        recorder,
        services: await testServices(profile),
        session: async () => {
          const request = session.request.bind(session);
          // The board is pulled between verify and COMMIT: the session knows the link is gone
          // before COMMIT is asked for, so not a byte of it is written.
          session.request = (async (name: never, req: never, options: never) => {
            if (name === 'COMMIT') {
              const closed = new Promise<void>((resolve) => {
                const dispose = session.onClosed.on(() => {
                  dispose();
                  resolve();
                });
              });
              await device.faults.unplug();
              await closed;
            }
            return request(name, req, options);
          }) as DeviceSession['request'];
          return session;
        },
      });
      expect(codeOf(outcome)).toBe('WIRE_DISCONNECTED');
      expect(commitsSeen).toBe(0);
      expect(device.state.identityState).toBe(0);
      expect(recorder.passes).toHaveLength(0);
      expect(recorder.failures).toMatchObject([
        { state: 'fail', error: { code: 'WIRE_DISCONNECTED' } },
      ]);
      expect(recorder.failures[0]?.steps.at(-1)?.step).toBe('commit');
    } finally {
      disposeSeen();
      await session.close();
    }
  });

  it('a store that fails after the device committed fails the run with the store code and says so', async () => {
    const device = await oneDevice();
    const recorder = new InMemoryRunRecorder();
    recorder.failNextCommit = Object.assign(new Error('database disk image is malformed'), {
      code: 'STORE_WRITE_FAILED',
    });
    const outcome = await runProfile(testProfile(), recorder);
    expect(outcome.state).toBe('fail');
    if (outcome.state === 'pass') return;
    expect(outcome.error.code).toBe('STORE_WRITE_FAILED');
    expect(outcome.error.message).toMatch(/committed its new identity.*could not record it/);
    expect(outcome.error.detail).toMatch(/SIM000001 committed registration ID ls-demo-1-sim000001/);
    // The device does hold the identity nobody recorded.
    expect(device.state.committed.config.registrationId).toBe('ls-demo-1-sim000001');
    expect(recorder.passes).toHaveLength(0);
    expect(recorder.failures[0]).toMatchObject({
      state: 'fail',
      error: { code: 'STORE_WRITE_FAILED' },
      registrationId: 'ls-demo-1-sim000001',
    });
    expect(recorder.failures[0]!.certificateSerial).toMatch(/^[0-9a-f]+$/);
  });
});
