import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deriveDeviceKey } from '../auth/sas.js';
import { hashedHub } from './allocation.js';
import { type DpsEmulator, startDpsEmulator } from './dpsEmulator.js';
import { call, registerDevice } from './emulatorTestKit.js';

const HUBS = ['hub-a.azure-devices.net', 'hub-b.azure-devices.net', 'hub-c.azure-devices.net'];

let emulator: DpsEmulator;
const logLines: string[] = [];
const logWaiters: { pattern: RegExp; resolve: () => void }[] = [];

/** Resolves when the emulator logs a line matching `pattern` (registrations log when done). */
function logged(pattern: RegExp): Promise<void> {
  if (logLines.some((line) => pattern.test(line))) return Promise.resolve();
  return new Promise((resolve) => logWaiters.push({ pattern, resolve }));
}

beforeAll(async () => {
  emulator = await startDpsEmulator({
    rateLimit: false,
    hubs: HUBS,
    log: (line) => {
      logLines.push(line);
      for (const waiter of logWaiters.filter((w) => w.pattern.test(line))) waiter.resolve();
    },
  });
});
afterAll(() => emulator.close());

/** A symmetric-key group with the given allocation settings; returns a member key maker. */
async function group(
  id: string,
  settings: Record<string, unknown>,
): Promise<(regId: string) => string> {
  const reply = await call(emulator, 'PUT', `/enrollmentGroups/${id}`, {
    body: { enrollmentGroupId: id, attestation: { type: 'symmetricKey' }, ...settings },
  });
  expect(reply.status).toBe(200);
  const key = (reply.body as { attestation: { symmetricKey: { primaryKey: string } } }).attestation
    .symmetricKey.primaryKey;
  return (regId) => deriveDeviceKey(key, regId);
}

async function assignedHub(
  regId: string,
  key: string,
  payload?: unknown,
): Promise<Record<string, unknown>> {
  const result = await registerDevice(emulator, regId, { key }, { payload });
  expect(result.final?.status).toBe(200);
  return (result.final!.body as { registrationState: Record<string, unknown> }).registrationState;
}

describe('built-in allocation policies', () => {
  it('hashed: spreads devices over every hub, the same hub for the same ID every time', async () => {
    const keyFor = await group('hashed-group', {});
    const counts = new Map<string, number>();
    for (let i = 0; i < 24; i += 1) {
      const regId = `hashed-dev-${i}`;
      const state = await assignedHub(regId, keyFor(regId));
      expect(state.assignedHub).toBe(hashedHub(regId, HUBS));
      counts.set(state.assignedHub as string, (counts.get(state.assignedHub as string) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(HUBS);
    const again = await assignedHub('hashed-dev-7', keyFor('hashed-dev-7'));
    expect(again.assignedHub).toBe(hashedHub('hashed-dev-7', HUBS));
    expect(hashedHub('Hashed-Dev-7', HUBS)).toBe(hashedHub('hashed-dev-7', HUBS));
  });

  it('static: the one hub of the enrollment; geoLatency: the first of its hubs', async () => {
    const staticKey = await group('static-group', {
      allocationPolicy: 'static',
      iotHubs: ['HUB-B.azure-devices.net'],
    });
    for (let i = 0; i < 4; i += 1) {
      const state = await assignedHub(`static-dev-${i}`, staticKey(`static-dev-${i}`));
      expect(state.assignedHub).toBe('hub-b.azure-devices.net');
    }
    const geoKey = await group('geo-group', {
      allocationPolicy: 'geoLatency',
      iotHubs: [HUBS[2], HUBS[0]],
    });
    expect((await assignedHub('geo-dev', geoKey('geo-dev'))).assignedHub).toBe(HUBS[2]);
  });

  it('hashed over a subset: only the enrollment’s hubs', async () => {
    const keyFor = await group('subset-group', { iotHubs: [HUBS[0], HUBS[1]] });
    for (let i = 0; i < 8; i += 1) {
      const state = await assignedHub(`subset-dev-${i}`, keyFor(`subset-dev-${i}`));
      expect([HUBS[0], HUBS[1]]).toContain(state.assignedHub);
    }
  });
});

describe('custom allocation webhook', () => {
  let webhook: Server;
  let webhookUrl: string;
  const received: Record<string, unknown>[] = [];
  let answer: (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) => void;

  beforeAll(async () => {
    webhook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        received.push(body);
        answer(req, res, body);
      });
    });
    webhook.listen(0, '127.0.0.1');
    await once(webhook, 'listening');
    webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/api/allocate?code=secret-function-key`;
  });
  afterEach(() => {
    received.length = 0;
  });
  afterAll(async () => {
    webhook.closeAllConnections();
    await new Promise((resolve) => webhook.close(resolve));
  });

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  it('posts the AllocationRequest and assigns the hub the webhook names, with its payload', async () => {
    answer = (_req, res) =>
      reply(res, 200, {
        iotHubHostName: HUBS[2],
        initialTwin: { tags: { line: 'A' } },
        payload: { firmwareChannel: 'stable' },
      });
    const keyFor = await group('custom-group', {
      allocationPolicy: 'custom',
      customAllocationDefinition: { webhookUrl, apiVersion: '2021-10-01' },
    });
    const state = await assignedHub('custom-dev-1', keyFor('custom-dev-1'), { model: 'toaster' });
    expect(state).toMatchObject({ assignedHub: HUBS[2], payload: { firmwareChannel: 'stable' } });
    expect(received).toHaveLength(1);
    const request = received[0]!;
    expect(request).toMatchObject({
      enrollmentGroup: { enrollmentGroupId: 'custom-group', attestation: { type: 'symmetricKey' } },
      deviceRuntimeContext: {
        registrationId: 'custom-dev-1',
        symmetricKey: {},
        payload: { model: 'toaster' },
      },
      linkedHubs: HUBS,
    });
    expect(JSON.stringify(request)).not.toMatch(/primaryKey|secondaryKey/);
    expect(logLines.join('\n')).not.toContain('secret-function-key');

    await assignedHub('custom-dev-1', keyFor('custom-dev-1'));
    expect(received[1]).toMatchObject({
      deviceRuntimeContext: { currentIotHubHostName: HUBS[2], currentDeviceId: 'custom-dev-1' },
    });
  });

  it('answers 202 while the webhook has not answered, then 200', async () => {
    let release: (() => void) | undefined;
    const arrived = new Promise<void>((resolve) => {
      answer = (_req, res) => {
        release = () => reply(res, 200, { iotHubHostName: HUBS[0] });
        resolve();
      };
    });
    const keyFor = await group('slow-group', {
      allocationPolicy: 'custom',
      customAllocationDefinition: { webhookUrl },
    });
    let polls = 0;
    const result = await registerDevice(
      emulator,
      'slow-dev',
      { key: keyFor('slow-dev') },
      {
        beforePoll: async () => {
          polls += 1;
          if (polls === 1) await arrived;
          if (polls === 2) {
            release!();
            await logged(/registered slow-dev /);
          }
        },
      },
    );
    expect(result.polls).toBe(2);
    expect(result.final?.body).toMatchObject({
      status: 'assigned',
      registrationState: { assignedHub: HUBS[0] },
    });
  });

  it('records a failed registration when the webhook names a hub that is not linked', async () => {
    answer = (_req, res) => reply(res, 200, { iotHubHostName: 'rogue.azure-devices.net' });
    const keyFor = await group('rogue-group', {
      allocationPolicy: 'custom',
      customAllocationDefinition: { webhookUrl },
    });
    const result = await registerDevice(emulator, 'rogue-dev', { key: keyFor('rogue-dev') });
    expect(result.final?.body).toMatchObject({
      status: 'failed',
      registrationState: { status: 'failed', errorCode: 400208, errorMessage: expect.any(String) },
    });
    const state = await call(emulator, 'GET', '/registrations/rogue-dev');
    expect(state.body).toMatchObject({ status: 'failed', errorCode: 400208 });
  });
});
