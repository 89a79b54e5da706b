/**
 * The private channel between Electron main and the station core process (utilityProcess
 * parentPort). It carries lifecycle messages, hands over one MessagePort per UI window, and lets
 * the core use the OS key store, which only main can reach (safeStorage lives in main; the core
 * never imports electron). The UI never sees this channel.
 *
 * Key-store requests carry a data key's base64 text from core to main and back: both are this
 * application's own processes on one machine, and the key never leaves memory.
 */
import { z } from 'zod';
import { codedErrorSchema } from './contract.js';

const secretOp = z.enum(['isAvailable', 'encrypt', 'decrypt']);

/** main → core. A `connect-ui` message transfers the window's MessagePort in `ports[0]`. */
export const mainToCoreSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('start'),
    /** safeStorage.getSelectedStorageBackend() on Linux, null elsewhere. */
    secretBackend: z.string().max(64).nullable(),
  }),
  z.object({ type: z.literal('connect-ui') }),
  z.object({ type: z.literal('stop') }),
  z.object({
    type: z.literal('secret-result'),
    id: z.number().int().nonnegative(),
    ok: z.boolean(),
    /** encrypt: base64 of the encrypted blob; decrypt: the plain text; isAvailable: 'true'/'false'. */
    value: z.string().max(16_384).optional(),
    error: codedErrorSchema.optional(),
  }),
]);

/** core → main. */
export const coreToMainSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  /** The station could not start; restarting would not help (configuration, missing module). */
  z.object({ type: z.literal('fatal'), error: codedErrorSchema }),
  z.object({ type: z.literal('stopped') }),
  z.object({
    type: z.literal('secret-request'),
    id: z.number().int().nonnegative(),
    op: secretOp,
    /** encrypt: the plain text; decrypt: base64 of the encrypted blob. */
    data: z.string().max(16_384).optional(),
  }),
]);

export type MainToCore = z.infer<typeof mainToCoreSchema>;
export type CoreToMain = z.infer<typeof coreToMainSchema>;
export type SecretRequest = Extract<CoreToMain, { type: 'secret-request' }>;
export type SecretResult = Extract<MainToCore, { type: 'secret-result' }>;

/**
 * A MessagePort as the core uses it: Electron's MessagePortMain (and ParentPort for the
 * messages), described here because station/ cannot import electron's types.
 */
export interface CorePort {
  on(event: 'message', listener: (event: { data: unknown; ports: UiPort[] }) => void): unknown;
  postMessage(message: unknown): void;
}

/** The per-window port main hands over (Electron MessagePortMain). */
export interface UiPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  off(event: 'close', listener: () => void): unknown;
  postMessage(message: unknown): void;
  start(): void;
  close(): void;
}
