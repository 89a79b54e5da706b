/**
 * A session meeting silence. What it sends again (a non-idempotent request within its one
 * timeout, an idempotent one after it) and how it names the failure: a request garbled on its
 * way to the device meets silence exactly as a dead device does, so the session's latest
 * exchanges decide between WIRE_LINK_NOISY and WIRE_TIMEOUT (linkTrouble.ts).
 */
import { describe, expect, it } from 'vitest';
import { encodeFrame, type Frame } from '../codec/frame.js';
import { encodeResponse, MessageType, type MessageName } from '../codec/messages.js';
import type { WireError } from '../codec/wireErrors.js';
import { RECENT_EXCHANGES } from './linkTrouble.js';
import { codeOf, info, reply, setup, type ScriptedDevice } from './testing/scriptedDevice.js';

/** What the scripted device does with one request (all copies of one request id). */
type Fate =
  /** Answers every copy. */
  | 'answer'
  /** The first answer leaves with one bit flipped; a repeat is answered whole (§6.2 replay). */
  | 'garbleFirst'
  /** The first copy is lost on its way to the device; a repeat is answered. */
  | 'loseFirst'
  /** Never answers: the device is gone. */
  | 'silent';

const answers: Partial<Record<MessageName, Uint8Array>> = {
  INFO: encodeResponse('INFO', info),
  GET_CONFIG: encodeResponse('GET_CONFIG', { idScope: '0ne1' }),
  GEN_KEY_CSR: encodeResponse('GEN_KEY_CSR', { csr: new Uint8Array([1, 2, 3]) }),
};
const nameOf = new Map<number, string>(
  Object.entries(MessageType).map(([name, type]) => [type, name]),
);

/** A device that meets the requests in order with `fates`, then answers every one. */
function peer(fates: Fate[]) {
  const copies = new Map<number, number>();
  let fate: Fate = 'answer';
  return (frame: Frame, d: ScriptedDevice) => {
    const copy = (copies.get(frame.requestId) ?? 0) + 1;
    copies.set(frame.requestId, copy);
    if (copy === 1) fate = fates.shift() ?? 'answer';
    if (fate === 'silent' || (fate === 'loseFirst' && copy === 1)) return;
    const data = answers[nameOf.get(frame.type) as MessageName]!;
    const bytes = encodeFrame({ ...reply(frame, data), fromDevice: true, error: false });
    if (fate === 'garbleFirst' && copy === 1) bytes[5] = bytes[5]! ^ 0x10;
    void d.end.write(bytes);
  };
}

/**
 * Exchanges the device answers: a long wait costs nothing (the answer comes at once), and a short
 * one would run out on a loaded machine, send the request again and count as link trouble.
 */
const answered = { timeoutMs: 2000 };
/** A request whose first copy is lost: silence, then the re-send is answered at once. */
const lostOnce = { timeoutMs: 300 };
const silentConfig = { timeoutMs: 40, retries: 0 };

async function errorOf(promise: Promise<unknown>): Promise<WireError> {
  return (await promise.then(
    () => expect.fail('expected the request to fail'),
    (err: unknown) => err,
  )) as WireError;
}

describe('DeviceSession: silence on a line that showed trouble', () => {
  it('calls silence WIRE_LINK_NOISY when an earlier exchange met a damaged answer', async () => {
    const { session } = await setup(peer(['answer', 'garbleFirst', 'answer', 'silent']));
    await session.identify(answered);
    await session.request('GET_CONFIG', { bank: 0 }, answered);
    await session.request('GET_CONFIG', { bank: 0 }, answered);
    const error = await errorOf(session.request('GET_CONFIG', { bank: 0 }, silentConfig));
    expect(error.code).toBe('WIRE_LINK_NOISY');
    expect(error.detail).toBe(
      `GET_CONFIG #4: no answer in 40 ms; 1 of the last ${RECENT_EXCHANGES} exchanges met damaged or lost frames`,
    );
  });

  it('calls silence WIRE_LINK_NOISY when an earlier request was answered only when sent again', async () => {
    // No damaged frame ever reaches the station: only its own frames are lost on the way.
    const { session } = await setup(peer(['answer', 'loseFirst', 'silent']));
    await session.identify(answered);
    await session.request('GET_CONFIG', { bank: 0 }, lostOnce);
    expect(session.stats.retransmissions).toBe(1);
    expect(await codeOf(session.request('GET_CONFIG', { bank: 0 }, silentConfig))).toBe(
      'WIRE_LINK_NOISY',
    );
  });

  it('keeps WIRE_TIMEOUT for a device clean since its first answer, boot noise before it aside', async () => {
    const { session, device } = await setup(peer(['answer', 'answer', 'silent']));
    await device.end.write(new Uint8Array([0x41, 0x42, 0x43, 0x00]));
    await session.identify(answered);
    await session.request('GET_CONFIG', { bank: 0 }, answered);
    expect(await codeOf(session.request('GET_CONFIG', { bank: 0 }, silentConfig))).toBe(
      'WIRE_TIMEOUT',
    );
  });

  it(`forgets trouble ${RECENT_EXCHANGES} exchanges later, failed ones included`, async () => {
    const clean = RECENT_EXCHANGES - 1;
    const fates: Fate[] = ['answer', 'garbleFirst', ...Array<Fate>(clean).fill('answer')];
    const { session } = await setup(peer([...fates, 'silent', 'silent']));
    await session.identify(answered);
    await session.request('GET_CONFIG', { bank: 0 }, answered);
    expect(session.stats.retransmissions).toBe(1);
    for (let i = 0; i < clean; i++) await session.request('GET_CONFIG', { bank: 0 }, answered);
    // The troubled exchange is the oldest of the last RECENT_EXCHANGES: still noisy.
    expect(await codeOf(session.request('GET_CONFIG', { bank: 0 }, silentConfig))).toBe(
      'WIRE_LINK_NOISY',
    );
    // That failed exchange pushed it out: the device now stopped answering.
    expect(await codeOf(session.request('GET_CONFIG', { bank: 0 }, silentConfig))).toBe(
      'WIRE_TIMEOUT',
    );
  });

  it('does not count a damaged first answer: it may be boot noise', async () => {
    const { session } = await setup(peer(['garbleFirst', 'answer', 'silent']));
    await session.identify(answered);
    await session.request('GET_CONFIG', { bank: 0 }, answered);
    expect(await codeOf(session.request('GET_CONFIG', { bank: 0 }, silentConfig))).toBe(
      'WIRE_TIMEOUT',
    );
  });
});

describe('DeviceSession: re-sends after silence', () => {
  /** A device that notes when each frame reached it, relative to the first. */
  function timed(onFrame: (frame: Frame, d: ScriptedDevice) => void) {
    const at: number[] = [];
    const handler = (frame: Frame, d: ScriptedDevice) => {
      at.push(performance.now());
      onFrame(frame, d);
    };
    return { handler, gaps: () => at.slice(1).map((t) => t - at[0]!) };
  }

  it('sends a lost GEN_KEY_CSR again within its timeout; the answer comes well before it ends', async () => {
    // PROTOCOL.md §6.2: a device busy with the request ignores a repeat, and replays its answer
    // to one that comes after. Here the first copy never arrived.
    let executions = 0;
    let lost = false;
    const { session, device } = await setup((frame, d) => {
      if (!lost) return void (lost = true);
      executions++;
      d.send(reply(frame, answers.GEN_KEY_CSR!));
    });
    const started = performance.now();
    const answer = await session.request(
      'GEN_KEY_CSR',
      { curve: 'P-256', commonName: 'x' },
      { timeoutMs: 3000 },
    );
    const elapsed = performance.now() - started;
    expect(answer).toEqual({ csr: new Uint8Array([1, 2, 3]) });
    // Sent again at a third of its timeout, with its request id.
    expect(elapsed).toBeGreaterThanOrEqual(999);
    expect(elapsed).toBeLessThan(2000);
    expect(device.frames.map((f) => [f.type, f.requestId])).toEqual([
      [MessageType.GEN_KEY_CSR, 1],
      [MessageType.GEN_KEY_CSR, 1],
    ]);
    expect(executions).toBe(1);
  });

  it('fails a non-idempotent request at its timeout, after re-sends at one and two thirds', async () => {
    const device = timed(() => undefined);
    const { session } = await setup(device.handler);
    const started = performance.now();
    // A 3 s timeout: its thirds leave a loaded machine's timers a second of slack each.
    const error = await errorOf(
      session.request('GEN_KEY_CSR', { curve: 'P-256', commonName: 'x' }, { timeoutMs: 3000 }),
    );
    const elapsed = performance.now() - started;
    expect(error.code).toBe('WIRE_TIMEOUT');
    expect(error.detail).toBe('GEN_KEY_CSR #1: no answer in 3000 ms');
    // At the guidance, not at three times it as an idempotent request's re-sends would take.
    expect(elapsed).toBeGreaterThanOrEqual(2999);
    expect(elapsed).toBeLessThan(6000);
    const [first, second] = device.gaps();
    expect(device.gaps()).toHaveLength(2);
    expect(first).toBeGreaterThanOrEqual(999);
    expect(first).toBeLessThan(2000);
    expect(second).toBeGreaterThanOrEqual(1999);
    expect(second).toBeLessThan(3000);
  });

  it('sends a non-idempotent request only as often as silenceResends allows', async () => {
    const { session, device } = await setup(() => undefined, { silenceResends: 0 });
    expect(
      await codeOf(
        session.request('GEN_KEY_CSR', { curve: 'P-256', commonName: 'x' }, { timeoutMs: 60 }),
      ),
    ).toBe('WIRE_TIMEOUT');
    expect(device.frames).toHaveLength(1);
  });

  it('sends an idempotent request again only once its whole timeout passed, as before', async () => {
    const device = timed(() => undefined);
    const { session } = await setup(device.handler);
    expect(
      await codeOf(session.request('GET_CONFIG', { bank: 0 }, { timeoutMs: 100, retries: 2 })),
    ).toBe('WIRE_TIMEOUT');
    const [first, second] = device.gaps();
    expect(device.gaps()).toHaveLength(2);
    expect(first).toBeGreaterThanOrEqual(99);
    expect(second! - first!).toBeGreaterThanOrEqual(99);
  });
});
