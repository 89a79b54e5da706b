import type { DeviceSession } from '../../../firmware-bridge/session/deviceSession.js';

/**
 * One port of a fixture whose adapter stays while the board behind it is swapped: `first`
 * answers every request up to and including the first `after` request, `second` everything
 * after, and the port never hangs up. Returns the session a run is given.
 */
export function boardSwappedAfter(
  first: DeviceSession,
  second: DeviceSession,
  after: string,
): DeviceSession {
  let onPort: DeviceSession = first;
  const request = first.request.bind(first);
  first.request = (async (name: never, req: never, options: never) => {
    const response = await request(name, req, options);
    if (name === after) onPort = second;
    return response;
  }) as DeviceSession['request'];
  return new Proxy(first, {
    get(_, prop) {
      const value: unknown = Reflect.get(onPort, prop, onPort);
      return typeof value === 'function' ? (value as () => unknown).bind(onPort) : value;
    },
  });
}
