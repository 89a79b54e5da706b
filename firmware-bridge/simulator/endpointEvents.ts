import type { MessageName } from '../codec/messages.js';
import type { DeviceErrorName } from '../codec/wireErrors.js';

/** One request the device executed and answered. */
export interface RequestEvent {
  name: MessageName | 'UNKNOWN';
  type: number;
  requestId: number;
  /** Simulated work time applied: deviceWorkMs for a success, commandMs for a refusal. */
  deviceMs: number;
  /** Measured time from the start of execution until the answer went to the link. */
  elapsedMs: number;
  /** Set when the device refused the request. */
  error?: DeviceErrorName;
}

/** A request about to execute; fault injection hooks in here ("unplug mid GEN_KEY_CSR"). */
export interface RequestStartEvent {
  name: MessageName | 'UNKNOWN';
  type: number;
  requestId: number;
}

export interface EndpointStats {
  executions: number;
  replays: number;
  busyAnswers: number;
  acksSent: number;
  transferErrors: number;
  /** Well-formed frames the device ignored: its own direction, stray ACKs, busy repeats. */
  framesIgnored: number;
}
