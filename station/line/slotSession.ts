import type { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import type { CodedError } from './lineTypes.js';
import { toCodedError } from './runErrors.js';

/**
 * The device session a slot keeps for its port between runs (see Slot's class comment for when
 * it is kept). A retired session stays open, so that the line still hears the port hang up, but
 * no run uses it again: the next one closes it and starts on a fresh open, with a new decoder
 * and the delimiter that flushes the device's receive buffer.
 */
export class SlotSession {
  private session: DeviceSession | undefined;
  private retired = false;

  /** A session is open (retired or not). */
  get isOpen(): boolean {
    return this.session !== undefined && !this.session.isClosed;
  }

  /** The open session, unless retired or closed; else a new one from `open`. */
  async get(open: () => Promise<DeviceSession>): Promise<DeviceSession> {
    if (this.session && !this.session.isClosed && !this.retired) return this.session;
    await this.drop();
    const session = await open();
    this.session = session;
    return session;
  }

  /** Keeps the session open only to hear the port hang up: the next run opens its own. */
  retire(): void {
    if (this.session) this.retired = true;
  }

  /** Closes the session, if one is open. */
  async drop(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    this.retired = false;
    await session?.close().catch(() => undefined);
  }
}

/** Who is on the port, or why that is not known (the run that may follow reports it too). */
export async function deviceOnPort(
  session: () => Promise<DeviceSession>,
  signal: AbortSignal,
): Promise<{ serialNumber: string; model: string } | { error: CodedError }> {
  try {
    const info = await (await session()).identify({ signal });
    return { serialNumber: info.serialNumber, model: info.model };
  } catch (err) {
    return { error: toCodedError(err) };
  }
}
