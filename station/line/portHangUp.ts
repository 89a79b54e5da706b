import { WireError } from '../../firmware-bridge/codec/wireErrors.js';

/**
 * Whether a transport closed because its device went: it closed by itself (with an error), and
 * not because the device stopped taking bytes (WIRE_TIMEOUT: still plugged, hung). Counting a
 * hung device as gone would re-arm its slot at the next poll and fail it again in a loop.
 */
export function hungUp(error: Error | undefined): boolean {
  return error !== undefined && !(error instanceof WireError && error.code === 'WIRE_TIMEOUT');
}
