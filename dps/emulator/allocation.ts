import { createHash } from 'node:crypto';
import type { DeviceRegistrationState, InitialTwin } from '../service/serviceTypes.js';
import {
  type AllocationRequest,
  callAllocationWebhook,
  WebhookAllocationError,
} from './customAllocationWebhook.js';
import type { AttestedDevice } from './deviceAttestation.js';
import { candidateHubs, type EnrollmentRecord } from './enrollmentValidation.js';

/**
 * Assigns a registering device to a linked hub by its enrollment's allocation policy:
 * - `static`: the enrollment's one hub;
 * - `hashed` (default): evenly weighted, by a hash of the registration ID, so a device always
 *   lands on the same hub while the hub list stays the same;
 * - `geoLatency`: the first hub (every hub is equally near a loopback emulator);
 * - `custom`: whatever the enrollment's webhook answers.
 * With `reprovisionPolicy.updateHubAssignment` false, a device keeps the hub it already has.
 */
export interface AllocationInput {
  device: AttestedDevice;
  linkedHubs: readonly string[];
  /** The device's `payload` from its register request, passed to a custom webhook. */
  payload?: unknown;
  /** The device's current registration state, if it registered before. */
  previous?: DeviceRegistrationState;
}

export interface Allocation {
  hub: string;
  substatus: 'initialAssignment' | 'deviceDataMigrated' | 'deviceDataReset';
  initialTwin?: InitialTwin;
  payload?: unknown;
}

export { WebhookAllocationError as AllocationError };

export async function allocate(input: AllocationInput): Promise<Allocation> {
  const enrollment = (input.device.individual ?? input.device.group) as EnrollmentRecord;
  const hubs = candidateHubs(enrollment, input.linkedHubs);
  if (hubs.length === 0) throw new WebhookAllocationError('The enrollment has no linked hub.');
  const current = input.previous?.status === 'assigned' ? input.previous.assignedHub : undefined;
  const keepCurrent =
    current !== undefined &&
    enrollment.reprovisionPolicy?.updateHubAssignment === false &&
    hubs.includes(current);
  let chosen: Omit<Allocation, 'substatus'>;
  if (keepCurrent) {
    chosen = { hub: current };
  } else if (enrollment.allocationPolicy === 'custom') {
    const answer = await callAllocationWebhook(
      enrollment.customAllocationDefinition!.webhookUrl,
      webhookRequest(input, enrollment, hubs),
    );
    chosen = {
      hub: answer.iotHubHostName,
      ...(answer.initialTwin !== undefined ? { initialTwin: answer.initialTwin } : {}),
      ...(answer.payload !== undefined ? { payload: answer.payload } : {}),
    };
  } else if (
    enrollment.allocationPolicy === 'static' ||
    enrollment.allocationPolicy === 'geoLatency'
  ) {
    chosen = { hub: hubs[0]! };
  } else {
    chosen = { hub: hashedHub(input.device.registrationId, hubs) };
  }
  const moved = current !== undefined && current.toLowerCase() !== chosen.hub.toLowerCase();
  const migrate = enrollment.reprovisionPolicy?.migrateDeviceData !== false;
  return {
    ...chosen,
    substatus: !moved ? 'initialAssignment' : migrate ? 'deviceDataMigrated' : 'deviceDataReset',
  };
}

/** The hub for a registration ID under evenly weighted hashing (case-insensitive, like ids). */
export function hashedHub(registrationId: string, hubs: readonly string[]): string {
  const digest = createHash('sha256').update(registrationId.toLowerCase(), 'utf8').digest();
  return hubs[digest.readUInt32BE(0) % hubs.length]!;
}

/** The AllocationRequest, with the enrollment's secrets (keys, certificates) left out. */
function webhookRequest(
  input: AllocationInput,
  enrollment: EnrollmentRecord,
  hubs: string[],
): AllocationRequest {
  const {
    attestation,
    registrationState: _state,
    ...rest
  } = enrollment as EnrollmentRecord & {
    registrationState?: unknown;
  };
  const shown = { ...rest, attestation: { type: attestation.type } };
  const previous = input.previous?.status === 'assigned' ? input.previous : undefined;
  return {
    ...(input.device.individual ? { individualEnrollment: shown } : { enrollmentGroup: shown }),
    deviceRuntimeContext: {
      registrationId: input.device.registrationId,
      ...(previous?.assignedHub !== undefined
        ? { currentIotHubHostName: previous.assignedHub, currentDeviceId: previous.deviceId }
        : {}),
      [input.device.type]: {},
      ...(input.payload !== undefined ? { payload: input.payload } : {}),
    },
    linkedHubs: hubs,
  };
}
