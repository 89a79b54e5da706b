import { randomBytes, randomUUID } from 'node:crypto';
import { allocate, AllocationError } from './allocation.js';
import {
  type AttestationContext,
  type AttestedDevice,
  attestDevice,
  enrollmentDisabled,
} from './deviceAttestation.js';
import { badRequest, ErrorCodes, DpsHttpError, unauthorized } from './errorBodies.js';
import {
  type EmulatorRequest,
  type EmulatorResponse,
  header,
  jsonBody,
  jsonResponse,
} from './httpJson.js';
import {
  deviceView,
  type RegistrationOutcome,
  saveRegistration,
  type StoredRegistration,
} from './registrationStates.js';
import type { Route } from './routeTable.js';
import { readPresentedTpm } from './tpmIdentities.js';
import { presentedChain } from './x509Chains.js';

/**
 * The device registration API (dps-protocol.md §2.1): `PUT …/register` attests the device and
 * answers 202 `assigning` at once; allocation (maybe a webhook call) runs behind it, and
 * `GET …/operations/{id}` answers 202 until it is done, then 200 with the registration state.
 * A device whose enrollment (or group) is disabled attests and registers `disabled`, with no
 * hub, as in DPS. Polls and status look-ups attest again, as DPS does.
 */
export interface DeviceRouteContext extends AttestationContext {
  linkedHubs: readonly string[];
  log: (line: string) => void;
}

interface Operation {
  registrationId: string;
  result?: { status: string; registrationState: Record<string, unknown> };
}

/** Operations kept for polling; the oldest are forgotten past this (bounded memory). */
const MAX_OPERATIONS = 10_000;
const RETRY_AFTER_SECONDS = '1';

export class DeviceRegistrations {
  private readonly operations = new Map<string, Operation>();
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly context: DeviceRouteContext) {}

  routes(): Route[] {
    return [
      {
        method: 'PUT',
        pattern: ['{scope}', 'registrations', '{id}', 'register'],
        kind: 'register',
        handle: (request, { scope, id }) => this.register(request, scope!, id!),
      },
      {
        method: 'GET',
        pattern: ['{scope}', 'registrations', '{id}', 'operations', '{operationId}'],
        kind: 'device',
        handle: (request, { scope, id, operationId }) =>
          this.poll(request, scope!, id!, operationId!),
      },
      {
        method: 'POST',
        pattern: ['{scope}', 'registrations', '{id}'],
        kind: 'device',
        handle: (request, { scope, id }) => this.status(request, scope!, id!),
      },
    ];
  }

  /** Resolves when every allocation under way has finished (before the store closes). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private register(request: EmulatorRequest, scope: string, id: string): EmulatorResponse {
    const body = jsonBody(request);
    const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<
      string,
      unknown
    >;
    if (
      typeof fields.registrationId === 'string' &&
      fields.registrationId.toLowerCase() !== id.toLowerCase()
    ) {
      throw badRequest(
        'registrationId in the body differs from the URL.',
        ErrorCodes.registrationIdMismatch,
      );
    }
    if (fields.tpm !== undefined && fields.tpm !== null) {
      const presented = readPresentedTpm(fields.tpm);
      // No token yet: this PUT asks for the challenge (§2.5); the next one carries its signature.
      if ((header(request, 'authorization') ?? '').trim() === '') {
        this.checkScope(scope);
        return this.context.tpmIdentities.challenge(id, presented);
      }
    }
    const device = this.attest(request, scope, id);
    const operationId = `5.${randomBytes(8).toString('hex')}.${randomUUID()}`;
    const operation: Operation = { registrationId: id.toLowerCase() };
    this.remember(operationId, operation);
    const work = this.assign(device, fields.payload).then(
      (stored) => {
        operation.result = {
          status: stored.state.status,
          registrationState: deviceView(stored, device.tpmAuthenticationKey),
        };
      },
      () => this.context.log(`registration of ${id} could not be recorded (emulator closing?)`),
    );
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
    return jsonResponse({ operationId, status: 'assigning' }, 202, {
      'retry-after': RETRY_AFTER_SECONDS,
    });
  }

  private poll(
    request: EmulatorRequest,
    scope: string,
    id: string,
    operationId: string,
  ): EmulatorResponse {
    this.attest(request, scope, id);
    const operation = this.operations.get(operationId);
    if (operation === undefined || operation.registrationId !== id.toLowerCase()) {
      throw new DpsHttpError(
        404,
        ErrorCodes.operationNotFound,
        'Not found: no such registration operation.',
      );
    }
    if (operation.result === undefined) {
      return jsonResponse({ operationId, status: 'assigning' }, 202, {
        'retry-after': RETRY_AFTER_SECONDS,
      });
    }
    return jsonResponse({ operationId, ...operation.result });
  }

  private status(request: EmulatorRequest, scope: string, id: string): EmulatorResponse {
    const device = this.attest(request, scope, id);
    const row = this.context.store.get<StoredRegistration>('registrations', id);
    if (row === undefined) {
      throw new DpsHttpError(
        404,
        ErrorCodes.registrationNotFound,
        'Not found: this device has not registered.',
      );
    }
    return jsonResponse(deviceView(row.record, device.tpmAuthenticationKey));
  }

  private attest(request: EmulatorRequest, scope: string, id: string): AttestedDevice {
    this.checkScope(scope);
    return attestDevice(
      this.context,
      id,
      header(request, 'authorization'),
      presentedChain(request.socket),
    );
  }

  private checkScope(scope: string): void {
    if (scope.toLowerCase() !== this.context.idScope.toLowerCase()) {
      throw unauthorized('unknown ID scope.');
    }
  }

  private async assign(device: AttestedDevice, payload: unknown): Promise<StoredRegistration> {
    const { store, linkedHubs, log } = this.context;
    const previous = store.get<StoredRegistration>('registrations', device.registrationId)?.record
      .state;
    const outcome: RegistrationOutcome = {
      registrationId: device.registrationId,
      attestationType: device.type,
      deviceId: device.deviceId,
      ...(device.group ? { enrollmentGroupId: device.group.enrollmentGroupId } : {}),
    };
    if (enrollmentDisabled(device)) {
      // DPS attests the device, then ends the registration `disabled`: no hub, no allocation.
      outcome.disabled = true;
      log(`registration of ${device.registrationId} is disabled: its enrollment is disabled`);
      return saveRegistration(store, outcome);
    }
    try {
      const allocation = await allocate({
        device,
        linkedHubs,
        payload,
        ...(previous ? { previous } : {}),
      });
      outcome.assignedHub = allocation.hub;
      outcome.substatus = allocation.substatus;
      if (allocation.payload !== undefined) outcome.payload = allocation.payload;
      if (allocation.initialTwin !== undefined) outcome.initialTwin = allocation.initialTwin;
      log(`registered ${device.registrationId} (${device.type}) to ${allocation.hub}`);
    } catch (err) {
      const message = err instanceof AllocationError ? err.message : 'Allocation failed.';
      outcome.error = { errorCode: ErrorCodes.allocationFailed, errorMessage: message };
      log(`registration of ${device.registrationId} failed: ${message}`);
    }
    return saveRegistration(store, outcome);
  }

  private remember(operationId: string, operation: Operation): void {
    this.operations.set(operationId, operation);
    if (this.operations.size > MAX_OPERATIONS) {
      const oldest = this.operations.keys().next().value;
      if (oldest !== undefined) this.operations.delete(oldest);
    }
  }
}
