/**
 * The `unlock` command's gate: only a line that waits for its passphrase takes one, and only
 * from the workstation itself, over the real server's loopback socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startApiServer, type RunningApiServer } from './apiServer.js';
import { commandHandlers } from './commandHandlers.js';
import { RecordingLine } from './recordingLine.test-double.js';
import { isLoopbackPeer } from './sessionAccess.js';
import { StationClient } from './stationClient.js';
import { webSocketPipe } from './webSocketPipe.js';

/** A line that waits for its passphrase and records what it was given. */
class WaitingLine extends RecordingLine {
  readonly given: string[] = [];
  unlock(passphrase: string): Promise<void> {
    this.given.push(passphrase);
    return Promise.resolve();
  }
}

async function codeOf(call: () => unknown): Promise<string | undefined> {
  try {
    await call();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('isLoopbackPeer', () => {
  it('knows this machine by its IPv4, IPv4-mapped and IPv6 loopback addresses only', () => {
    for (const local of ['127.0.0.1', '127.3.4.5', '::1', '::ffff:127.0.0.1', '::FFFF:127.0.0.9']) {
      expect(isLoopbackPeer(local), local).toBe(true);
    }
    for (const remote of ['10.0.0.5', '::ffff:10.0.0.5', 'fe80::1', '::', '0.0.0.0', undefined]) {
      expect(isLoopbackPeer(remote), String(remote)).toBe(false);
    }
  });
});

describe('the unlock command', () => {
  it('is refused from the network before the line sees the passphrase', async () => {
    const line = new WaitingLine();
    const remote = commandHandlers(line, { local: false });
    // Told first, so that its UI shows no field to type the passphrase into.
    expect((await remote.snapshot({})).unlockHere).toBe(false);
    expect(await codeOf(() => remote.unlock({ passphrase: 'secret words' }))).toBe(
      'STATION_UNLOCK_NOT_LOCAL',
    );
    expect(line.given).toEqual([]);
    // The rest of the line stays in reach of a supervisor's screen elsewhere.
    remote.provision({ slot: 1 });
    expect(line.calls).toEqual(['provision 1']);
  });

  it('is refused by a line that does not wait for a passphrase', async () => {
    const handlers = commandHandlers(new RecordingLine(), { local: true });
    expect(await codeOf(() => handlers.unlock({ passphrase: 'secret words' }))).toBe(
      'STATION_NOT_LOCKED',
    );
  });

  describe('over the headless server', () => {
    let server: RunningApiServer;
    const line = new WaitingLine();
    const logs: string[] = [];
    beforeAll(async () => {
      server = await startApiServer({ line, log: (text) => logs.push(text) });
    });
    afterAll(() => server.close());

    it('reaches the line from a browser on this machine; bad arguments never echo it', async () => {
      const origin = `http://127.0.0.1:${server.port}`;
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, {
        origin,
      });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const client = new StationClient(webSocketPipe(ws));
      try {
        expect((await client.call('snapshot')).unlockHere).toBe(true);
        expect(await client.call('unlock', { passphrase: 'secret words' })).toBeNull();
        expect(line.given).toEqual(['secret words']);
        // Past the client's own checks, as a hostile or buggy page would send it.
        const answer = new Promise<string>((resolve) =>
          ws.on('message', (data: Buffer) => {
            if (data.toString().includes('"id":77')) resolve(data.toString());
          }),
        );
        ws.send(
          JSON.stringify({
            id: 77,
            type: 'command',
            command: 'unlock',
            args: { passphrase: 'other secret', extra: 1 },
          }),
        );
        const refused = await answer;
        expect(refused).toContain('API_BAD_MESSAGE');
        expect(refused).toContain('extra');
        expect(refused).not.toContain('other secret');
        expect(line.given).toEqual(['secret words']);
        expect(logs.join('\n')).not.toContain('secret');
      } finally {
        client.close();
      }
    });
  });
});
