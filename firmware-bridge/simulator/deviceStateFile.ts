import type { Curve, DeviceConfig } from '../codec/messages.js';
import type { CommittedBank, DeviceIdentity, IdentityKey } from './deviceBanks.js';

/**
 * The simulated device's flash, as one JSON file per device. Byte fields are base64 inside the
 * JSON: this file stands for the device's own storage, not for station data.
 */
export interface DeviceFlashImage {
  identity: DeviceIdentity;
  committed: CommittedBank;
}

const FORMAT = 1;

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

export function serializeFlash(image: DeviceFlashImage): string {
  const { config, identityKey, certChain, symmetricKey, lastCommitId } = image.committed;
  const committed = {
    config,
    identityKey: identityKey && { curve: identityKey.curve, pkcs8: b64(identityKey.pkcs8) },
    certChain: certChain?.map(b64),
    symmetricKey: symmetricKey && b64(symmetricKey),
    lastCommitId: lastCommitId && b64(lastCommitId),
  };
  return `${JSON.stringify({ format: FORMAT, identity: image.identity, committed }, null, 2)}\n`;
}

/** Parses a flash file; throws an Error naming the file and the field when it is damaged. */
export function parseFlash(text: string, file: string): DeviceFlashImage {
  const fail = (what: string): never => {
    throw new Error(`${file}: damaged simulator state (${what}); delete it to re-manufacture`);
  };
  // Boundary: untrusted JSON, validated field by field below.
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return fail('not JSON');
  }
  const root = asRecord(raw) ?? fail('root');
  if (root.format !== FORMAT) fail(`format ${String(root.format)}`);
  const id = asRecord(root.identity) ?? fail('identity');
  const identity: DeviceIdentity = {
    serialNumber: asString(id.serialNumber) ?? fail('identity.serialNumber'),
    model: asString(id.model) ?? fail('identity.model'),
    hardwareRevision: asString(id.hardwareRevision) ?? fail('identity.hardwareRevision'),
    firmwareVersion: asString(id.firmwareVersion) ?? fail('identity.firmwareVersion'),
  };
  const c = asRecord(root.committed) ?? fail('committed');
  const committed: CommittedBank = { config: parseConfig(c.config) ?? fail('committed.config') };
  if (c.identityKey !== undefined) {
    const k = asRecord(c.identityKey) ?? fail('committed.identityKey');
    const curve = k.curve === 'P-256' || k.curve === 'P-384' ? (k.curve as Curve) : fail('curve');
    const key: IdentityKey = { curve, pkcs8: fromB64(k.pkcs8) ?? fail('identityKey.pkcs8') };
    committed.identityKey = key;
  }
  if (c.certChain !== undefined) {
    if (!Array.isArray(c.certChain)) fail('committed.certChain');
    committed.certChain = (c.certChain as unknown[]).map((v) => fromB64(v) ?? fail('certChain'));
  }
  if (c.symmetricKey !== undefined) {
    committed.symmetricKey = fromB64(c.symmetricKey) ?? fail('committed.symmetricKey');
  }
  if (c.lastCommitId !== undefined) {
    committed.lastCommitId = fromB64(c.lastCommitId) ?? fail('committed.lastCommitId');
  }
  return { identity, committed };
}

function parseConfig(value: unknown): DeviceConfig | undefined {
  const r = asRecord(value);
  if (r === undefined) return undefined;
  const config: DeviceConfig = {};
  for (const name of ['globalEndpoint', 'idScope', 'registrationId'] as const) {
    if (r[name] === undefined) continue;
    const s = asString(r[name]);
    if (s === undefined) return undefined;
    config[name] = s;
  }
  if (r.extra !== undefined) {
    const extra = asRecord(r.extra);
    if (extra === undefined || !Object.values(extra).every((v) => typeof v === 'string')) {
      return undefined;
    }
    config.extra = extra as Record<string, string>;
  }
  return config;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function fromB64(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return undefined;
  return new Uint8Array(Buffer.from(value, 'base64'));
}
