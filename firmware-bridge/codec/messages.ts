import { decodeWithSchema, encodeWithSchema, type Schema } from './cborSchema.js';

export {
  decodeErrorBody,
  encodeErrorBody,
  ERROR_DETAIL_MAX,
  errorSchema,
  type ErrorBody,
} from './errorBody.js';

/** Message types (PROTOCOL.md §4). */
export const MessageType = {
  INFO: 0x01,
  GET_CONFIG: 0x02,
  SET_CONFIG: 0x03,
  GEN_KEY_CSR: 0x10,
  PUT_CERT_CHAIN: 0x11,
  PUT_PRIVATE_KEY: 0x12,
  PUT_SYMMETRIC_KEY: 0x13,
  GET_EK: 0x14,
  SIGN_CHALLENGE: 0x15,
  COMMIT: 0x20,
  FACTORY_RESET: 0x21,
} as const;
export type MessageName = keyof typeof MessageType;

export const messageNames = new Map<number, MessageName>(
  Object.entries(MessageType).map(([name, type]) => [type, name as MessageName]),
);

export type Curve = 'P-256' | 'P-384';
export type Bank = 0 | 1;
export const BANK_COMMITTED: Bank = 0;
export const BANK_STAGED: Bank = 1;
export const CHALLENGE_KIND_X509 = 1;
export const CHALLENGE_KIND_SYMMETRIC = 2;
/** Prefix of every signed challenge, so the identity key never signs arbitrary data. */
export const CHALLENGE_PREFIX = new Uint8Array([0x4c, 0x53, 0x43, 0x48, 0x41, 0x4c, 0x31, 0x00]);

export interface DeviceFeatures {
  keygenCurves: string[];
  tpm: boolean;
  symmetricKeySlot: boolean;
  keyInjection: boolean;
}

export interface DeviceInfo {
  protocolVersion: number;
  maxFrame: number;
  serialNumber: string;
  model: string;
  hardwareRevision: string;
  firmwareVersion: string;
  features: DeviceFeatures;
  identityState: number;
  maxMessage: number;
}

/** DPS settings held by a device. Absent fields are unset on the device. */
export interface DeviceConfig {
  globalEndpoint?: string;
  idScope?: string;
  registrationId?: string;
  extra?: Record<string, string>;
}

/** Request and response shapes of every message, by name. */
export interface MessageShapes {
  INFO: { req: { hostMaxFrame: number }; res: DeviceInfo };
  GET_CONFIG: { req: { bank: Bank }; res: DeviceConfig };
  SET_CONFIG: { req: DeviceConfig; res: Record<string, never> };
  GEN_KEY_CSR: { req: { curve: Curve; commonName: string }; res: { csr: Uint8Array } };
  PUT_CERT_CHAIN: { req: { chain: Uint8Array[] }; res: Record<string, never> };
  PUT_PRIVATE_KEY: { req: { curve: Curve; pkcs8: Uint8Array }; res: Record<string, never> };
  PUT_SYMMETRIC_KEY: { req: { key: Uint8Array }; res: Record<string, never> };
  GET_EK: { req: Record<string, never>; res: { ekPublic: Uint8Array; ekCertificate?: Uint8Array } };
  SIGN_CHALLENGE: {
    req: { nonce: Uint8Array; bank: Bank; kind: number };
    res: { signature: Uint8Array };
  };
  COMMIT: { req: { commitId: Uint8Array }; res: { commitId: Uint8Array } };
  FACTORY_RESET: { req: { confirm: string }; res: Record<string, never> };
}

export type Request<N extends MessageName> = MessageShapes[N]['req'];
export type Response<N extends MessageName> = MessageShapes[N]['res'];

const empty: Schema = {};
const configSchema: Schema = {
  globalEndpoint: { key: 1, kind: 'tstr', optional: true, max: 255 },
  idScope: { key: 2, kind: 'tstr', optional: true, max: 64 },
  registrationId: { key: 3, kind: 'tstr', optional: true, max: 128 },
  extra: { key: 4, kind: 'map<tstr,tstr>', optional: true, max: 16, itemMax: 255 },
};
const featuresSchema: Schema = {
  keygenCurves: { key: 1, kind: 'tstr[]', max: 8, itemMax: 16 },
  tpm: { key: 2, kind: 'bool' },
  symmetricKeySlot: { key: 3, kind: 'bool' },
  keyInjection: { key: 4, kind: 'bool' },
};
const curve: Schema[string] = { key: 1, kind: 'tstr', max: 16 };
/** DER certificates and CSRs are bounded so one message never outgrows a device's buffer. */
const MAX_DER = 4096;

/** Schemas per message; PROTOCOL.md §4 is the prose of the same table. */
export const messageSchemas: Record<MessageName, { req: Schema; res: Schema }> = {
  INFO: {
    req: { hostMaxFrame: { key: 1, kind: 'uint', min: 256 } },
    res: {
      protocolVersion: { key: 1, kind: 'uint' },
      maxFrame: { key: 2, kind: 'uint', min: 256 },
      serialNumber: { key: 3, kind: 'tstr', min: 1, max: 64 },
      model: { key: 4, kind: 'tstr', min: 1, max: 64 },
      hardwareRevision: { key: 5, kind: 'tstr', max: 64 },
      firmwareVersion: { key: 6, kind: 'tstr', max: 64 },
      features: { key: 7, kind: { nested: featuresSchema } },
      identityState: { key: 8, kind: 'uint', max: 1 },
      maxMessage: { key: 9, kind: 'uint', min: 256 },
    },
  },
  GET_CONFIG: { req: { bank: { key: 1, kind: 'uint', max: 1 } }, res: configSchema },
  SET_CONFIG: { req: configSchema, res: empty },
  GEN_KEY_CSR: {
    req: { curve, commonName: { key: 2, kind: 'tstr', min: 1, max: 64 } },
    res: { csr: { key: 1, kind: 'bstr', min: 1, max: MAX_DER } },
  },
  PUT_CERT_CHAIN: {
    req: { chain: { key: 1, kind: 'bstr[]', min: 1, max: 4, itemMax: MAX_DER } },
    res: empty,
  },
  PUT_PRIVATE_KEY: {
    req: { curve, pkcs8: { key: 2, kind: 'bstr', min: 1, max: 512 } },
    res: empty,
  },
  PUT_SYMMETRIC_KEY: { req: { key: { key: 1, kind: 'bstr', min: 16, max: 64 } }, res: empty },
  GET_EK: {
    req: empty,
    res: {
      ekPublic: { key: 1, kind: 'bstr', min: 2, max: 1024 },
      ekCertificate: { key: 2, kind: 'bstr', optional: true, max: MAX_DER },
    },
  },
  SIGN_CHALLENGE: {
    req: {
      nonce: { key: 1, kind: 'bstr', min: 16, max: 64 },
      bank: { key: 2, kind: 'uint', max: 1 },
      kind: { key: 3, kind: 'uint', min: 1, max: 2 },
    },
    res: { signature: { key: 1, kind: 'bstr', min: 1, max: 256 } },
  },
  COMMIT: {
    req: { commitId: { key: 1, kind: 'bstr', min: 16, max: 16 } },
    res: { commitId: { key: 1, kind: 'bstr', min: 16, max: 16 } },
  },
  FACTORY_RESET: { req: { confirm: { key: 1, kind: 'tstr', max: 16 } }, res: empty },
};

/** Requests the host may repeat after a timeout (PROTOCOL.md §4). */
export const idempotentMessages: ReadonlySet<MessageName> = new Set<MessageName>([
  'INFO',
  'GET_CONFIG',
  'SET_CONFIG',
  'PUT_CERT_CHAIN',
  'PUT_SYMMETRIC_KEY',
  'GET_EK',
  'SIGN_CHALLENGE',
  'COMMIT',
]);

/**
 * Requests that carry a secret (a private or symmetric key). The session zeroes every encoded
 * copy it made of one (CBOR, frame bodies, the frames written and re-sent) once the request
 * settles, whatever the outcome: a key must not linger in station memory after it was written.
 */
export const secretMessages: ReadonlySet<MessageName> = new Set<MessageName>([
  'PUT_PRIVATE_KEY',
  'PUT_SYMMETRIC_KEY',
]);

/** Device work time guidance per message, before link time (PROTOCOL.md §4). */
export const messageTimeoutMs: Record<MessageName, number> = {
  INFO: 500,
  GET_CONFIG: 1000,
  SET_CONFIG: 1000,
  GEN_KEY_CSR: 10_000,
  PUT_CERT_CHAIN: 5000,
  PUT_PRIVATE_KEY: 5000,
  PUT_SYMMETRIC_KEY: 2000,
  GET_EK: 5000,
  SIGN_CHALLENGE: 3000,
  COMMIT: 10_000,
  FACTORY_RESET: 10_000,
};

export function encodeRequest<N extends MessageName>(name: N, req: Request<N>): Uint8Array {
  return encodeWithSchema(messageSchemas[name].req, req);
}
export function decodeRequest<N extends MessageName>(name: N, bytes: Uint8Array): Request<N> {
  return decodeWithSchema<Request<N>>(messageSchemas[name].req, bytes);
}
export function encodeResponse<N extends MessageName>(name: N, res: Response<N>): Uint8Array {
  return encodeWithSchema(messageSchemas[name].res, res);
}
export function decodeResponse<N extends MessageName>(name: N, bytes: Uint8Array): Response<N> {
  return decodeWithSchema<Response<N>>(messageSchemas[name].res, bytes);
}
