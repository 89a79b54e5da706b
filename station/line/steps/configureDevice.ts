import type { DeviceConfig } from '../../../firmware-bridge/codec/messages.js';
import type {
  DeviceSession,
  RequestOptions,
} from '../../../firmware-bridge/session/deviceSession.js';

/** The DPS settings a device needs to find its hub: what SET_CONFIG writes and verify reads. */
export interface DpsSettings {
  globalEndpoint: string;
  idScope: string;
  registrationId: string;
}

/** Stages the DPS settings on the device (PROTOCOL.md §4.3); COMMIT makes them persistent. */
export async function configureDevice(
  session: DeviceSession,
  settings: DpsSettings,
  options: RequestOptions = {},
): Promise<void> {
  const config: DeviceConfig = {
    globalEndpoint: settings.globalEndpoint,
    idScope: settings.idScope,
    registrationId: settings.registrationId,
  };
  await session.request('SET_CONFIG', config, options);
}
