import { DpsError } from '../dpsErrors.js';
import { invalidResponse, isRecord, jsonBody, withoutSecrets } from '../http/dpsResponse.js';
import type { HttpsExchangeResponse } from '../http/httpsExchange.js';
import type { DeviceRegistrationState } from '../service/serviceTypes.js';
import type { DeviceRegistrationResult } from './registrationTypes.js';

/** The body of a 2xx register or poll answer (RegistrationOperationStatus). */
interface RegistrationOperationBody {
  operationId?: string;
  status: string;
  registrationState?: DeviceRegistrationState;
}

/** Where a registration stands after one answer. */
export type RegistrationStep =
  { kind: 'assigning'; operationId: string } | { kind: 'done'; result: DeviceRegistrationResult };

function isOperationBody(value: unknown): value is RegistrationOperationBody {
  if (!isRecord(value) || typeof value['status'] !== 'string') return false;
  const state = value['registrationState'];
  return state === undefined || state === null || isRecord(state);
}

/**
 * Reads a 2xx register or poll answer: `assigning` asks for a poll, `assigned` is the result,
 * `failed`, `disabled` and `unassigned` are DPS_REGISTRATION_FAILED with DPS's errorCode and
 * errorMessage. Status is compared case-insensitively, as the Node SDK does. `secrets` (the
 * device's token and key) are cut out of DPS's errorMessage, in case a server echoes them.
 */
export function readRegistrationStep(
  where: string,
  response: HttpsExchangeResponse,
  secrets: readonly string[] = [],
): RegistrationStep {
  const body = jsonBody(where, response, isOperationBody, 'a registration operation');
  const status = body.status.toLowerCase();
  const state = body.registrationState ?? undefined;
  if (status === 'assigning') {
    if (typeof body.operationId !== 'string' || body.operationId === '') {
      throw invalidResponse(where, response, 'assigning without an operationId');
    }
    return { kind: 'assigning', operationId: body.operationId };
  }
  if (status === 'assigned') {
    if (typeof state?.assignedHub !== 'string' || typeof state.deviceId !== 'string') {
      throw invalidResponse(where, response, 'assigned without assignedHub and deviceId');
    }
    return {
      kind: 'done',
      result: {
        assignedHub: state.assignedHub,
        deviceId: state.deviceId,
        registrationState: state,
        status: 'assigned',
      },
    };
  }
  if (status === 'failed' || status === 'disabled' || status === 'unassigned') {
    const errorCode = state?.errorCode;
    throw new DpsError('DPS_REGISTRATION_FAILED', {
      status: response.status,
      dpsErrorCode: Number.isSafeInteger(errorCode) ? errorCode : undefined,
      detail:
        typeof state?.errorMessage === 'string'
          ? `${where}: ${status}: ${withoutSecrets(state.errorMessage, secrets).slice(0, 300)}`
          : status === 'disabled'
            ? `${where}: registration disabled: DPS knows the device, but its enrollment (or enrollment group) is disabled`
            : `${where}: registration ${status}`,
    });
  }
  throw invalidResponse(
    where,
    response,
    `unknown registration status ${JSON.stringify(status.slice(0, 40))}`,
  );
}
