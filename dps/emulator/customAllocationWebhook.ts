import type { InitialTwin } from '../service/serviceTypes.js';

/**
 * The custom allocation webhook call (MicrosoftDocs "Understand custom allocation policies"):
 * DPS POSTs an AllocationRequest
 *   `{individualEnrollment | enrollmentGroup, deviceRuntimeContext, linkedHubs}`
 * and expects an AllocationResponse `{iotHubHostName, initialTwin?, payload?}` naming one of
 * `linkedHubs`. The webhook URL often carries a function key (`?code=…`): it is never logged.
 */
export interface AllocationRequest {
  individualEnrollment?: Record<string, unknown>;
  enrollmentGroup?: Record<string, unknown>;
  deviceRuntimeContext: {
    registrationId: string;
    currentIotHubHostName?: string;
    currentDeviceId?: string;
    x509?: Record<string, unknown>;
    symmetricKey?: Record<string, unknown>;
    payload?: unknown;
  };
  linkedHubs: string[];
}

export interface AllocationResponse {
  iotHubHostName: string;
  initialTwin?: InitialTwin;
  payload?: unknown;
}

/** Why a webhook allocation failed, in words safe for a registration state and a log. */
export class WebhookAllocationError extends Error {
  override readonly name = 'WebhookAllocationError';
}

const WEBHOOK_TIMEOUT_MS = 10_000;
/** DPS's own message limit (dps-protocol.md §3); an AllocationResponse is far smaller. */
const MAX_ANSWER_BYTES = 96 * 1024;

/** Calls the webhook; resolves its answer once checked, or rejects with WebhookAllocationError. */
export async function callAllocationWebhook(
  webhookUrl: string,
  request: AllocationRequest,
  timeoutMs = WEBHOOK_TIMEOUT_MS,
): Promise<AllocationResponse> {
  let response: Response;
  try {
    response = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch {
    throw new WebhookAllocationError('The custom allocation webhook could not be reached.');
  }
  const text = await cappedText(response, MAX_ANSWER_BYTES);
  if (!response.ok) {
    throw new WebhookAllocationError(
      `The custom allocation webhook answered HTTP ${response.status}.`,
    );
  }
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new WebhookAllocationError('The custom allocation webhook did not answer JSON.');
  }
  const body = (typeof answer === 'object' && answer !== null ? answer : {}) as Record<
    string,
    unknown
  >;
  // The docs spell the field both iotHubHostName and iotHubHostname.
  const hubName = body.iotHubHostName ?? body.iotHubHostname;
  const hub =
    typeof hubName === 'string'
      ? request.linkedHubs.find((linked) => linked.toLowerCase() === hubName.toLowerCase())
      : undefined;
  if (hub === undefined) {
    throw new WebhookAllocationError(
      'The custom allocation webhook did not name one of the linked hubs.',
    );
  }
  const twin = body.initialTwin;
  return {
    iotHubHostName: hub,
    ...(typeof twin === 'object' && twin !== null ? { initialTwin: twin as InitialTwin } : {}),
    ...(body.payload !== undefined && body.payload !== null ? { payload: body.payload } : {}),
  };
}

/**
 * The answer's text, read no further than `maxBytes`: a webhook URL that points at something
 * endless (a download, a stream) must not fill the emulator's memory for the whole timeout.
 * An unreadable body reads as ''.
 */
async function cappedText(response: Response, maxBytes: number): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new WebhookAllocationError(
          `The custom allocation webhook answered with a body larger than ${maxBytes} bytes.`,
        );
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof WebhookAllocationError) throw err;
    return '';
  }
  return Buffer.concat(chunks).toString('utf8');
}
