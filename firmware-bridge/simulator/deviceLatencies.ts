import type { MessageName } from '../codec/messages.js';

/**
 * How long the simulated MCU works on each kind of request, excluding link time. The defaults
 * are in the range of a Cortex-M4 with a hardware ECC accelerator and NOR flash; the benchmark
 * computes the physical floor of a provisioning run from the same numbers.
 */
export interface DeviceLatencies {
  /** Every request: parsing, dispatch, RAM staging. */
  commandMs: number;
  /** On-chip ECDSA key pair generation. */
  keygenMs: number;
  /** One ECDSA signature (challenge, or the CSR's self-signature). */
  signMs: number;
  /** Programming (or erasing) one 4 KiB flash page. */
  flashWritePer4KiBMs: number;
  /** Reading the endorsement key out of the TPM. */
  ekReadMs: number;
  /** From power-on (reboot, replug) until the firmware listens on the port. */
  bootMs: number;
}

export const DEFAULT_LATENCIES: Readonly<DeviceLatencies> = Object.freeze({
  commandMs: 2,
  keygenMs: 150,
  signMs: 30,
  flashWritePer4KiBMs: 40,
  ekReadMs: 50,
  bootMs: 300,
});

/** What one request did that costs time beyond the command itself. */
export interface DeviceWorkContext {
  /**
   * COMMIT: bytes of the committed state written to flash; 0 when the commit was a repeat that
   * wrote nothing. Absent counts as one page.
   */
  committedBytes?: number;
  /** FACTORY_RESET: bytes of committed state erased. Absent or 0 counts as one page. */
  erasedBytes?: number;
}

export const FLASH_PAGE_BYTES = 4096;

/** Flash pages covering `bytes`; a write or erase always touches at least one page. */
export function flashPages(bytes: number | undefined): number {
  return Math.max(1, Math.ceil((bytes ?? 0) / FLASH_PAGE_BYTES));
}

/** Simulated device work time of one successful request, in milliseconds. */
export function deviceWorkMs(
  name: MessageName,
  latencies: DeviceLatencies,
  ctx: DeviceWorkContext = {},
): number {
  const { commandMs, keygenMs, signMs, flashWritePer4KiBMs, ekReadMs } = latencies;
  switch (name) {
    case 'INFO':
    case 'GET_CONFIG':
    case 'SET_CONFIG':
    case 'PUT_CERT_CHAIN':
    case 'PUT_SYMMETRIC_KEY':
    case 'PUT_PRIVATE_KEY':
      // Staging is RAM only; the flash is touched by COMMIT.
      return commandMs;
    case 'GEN_KEY_CSR':
      // The CSR is self-signed with the new key, so one signature on top of key generation.
      return commandMs + keygenMs + signMs;
    case 'SIGN_CHALLENGE':
      return commandMs + signMs;
    case 'COMMIT':
      // A repeated COMMIT (same id, nothing staged) answers without writing.
      if (ctx.committedBytes === 0) return commandMs;
      return commandMs + flashWritePer4KiBMs * flashPages(ctx.committedBytes);
    case 'FACTORY_RESET':
      return commandMs + flashWritePer4KiBMs * flashPages(ctx.erasedBytes);
    case 'GET_EK':
      return commandMs + ekReadMs;
  }
}

/** Merges partial overrides over the defaults, refusing values a clock cannot honour. */
export function resolveLatencies(overrides: Partial<DeviceLatencies> = {}): DeviceLatencies {
  const merged = { ...DEFAULT_LATENCIES, ...overrides };
  for (const [name, value] of Object.entries(merged)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`latency ${name} must be a finite number ≥ 0, got ${value}`);
    }
  }
  return merged;
}
