import { randomBytes } from 'node:crypto';
import { WireError } from '../../../firmware-bridge/codec/wireErrors.js';
import type { DeviceSession } from '../../../firmware-bridge/session/deviceSession.js';

/**
 * COMMIT (PROTOCOL.md §4.10): the staged bank becomes the device's identity. No AbortSignal on
 * purpose: once COMMIT is on the wire the device may persist at any moment, so the station
 * waits for the answer rather than abandon a device whose state it no longer knows. A lost
 * answer is retried with the same commit id, which the device answers without writing again.
 */
export async function commitDevice(session: DeviceSession): Promise<Uint8Array> {
  const commitId = new Uint8Array(randomBytes(16));
  const committed = await session.request('COMMIT', { commitId });
  if (!Buffer.from(committed.commitId).equals(Buffer.from(commitId))) {
    throw new WireError('WIRE_BAD_RESPONSE', 'COMMIT answered with another commit id');
  }
  return commitId;
}
