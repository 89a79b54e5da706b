import type { DeviceConfig, DeviceInfo, MessageName } from './messages.js';

/**
 * One realistic request and response per message, with payloads of the sizes a production run
 * sends (a P-256 CSR of about 300 bytes, certificates of about 450), shared by the codec tests
 * and by throwaway benchmarks.
 */

/** Bytes that look like DER (a SEQUENCE head) and vary, so no test passes on zeros alone. */
export function derLike(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  out[0] = 0x30;
  out[1] = 0x82;
  out[2] = (length - 4) >> 8;
  out[3] = (length - 4) & 0xff;
  let x = seed >>> 0 || 1;
  for (let i = 4; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export const sampleInfo: DeviceInfo = {
  protocolVersion: 1,
  maxFrame: 512,
  serialNumber: 'SN000123',
  model: 'LS-DEMO-1',
  hardwareRevision: 'B',
  firmwareVersion: '1.4.2',
  features: {
    keygenCurves: ['P-256', 'P-384'],
    tpm: false,
    symmetricKeySlot: true,
    keyInjection: false,
  },
  identityState: 0,
  maxMessage: 8192,
};

export const sampleConfig: DeviceConfig = {
  globalEndpoint: 'global.azure-devices-provisioning.net',
  idScope: '0ne00000001',
  registrationId: 'ls-demo-1-sn000123',
  extra: { site: 'line-3', station: 'st-07' },
};

type Sample = { [N in MessageName]: { req: object; res: object } };

export function sampleMessages(): Sample {
  const commitId = derLike(16, 7);
  return {
    INFO: { req: { hostMaxFrame: 4096 }, res: sampleInfo },
    GET_CONFIG: { req: { bank: 1 }, res: sampleConfig },
    SET_CONFIG: { req: sampleConfig, res: {} },
    GEN_KEY_CSR: {
      req: { curve: 'P-256', commonName: 'ls-demo-1-sn000123' },
      res: { csr: derLike(300, 1) },
    },
    PUT_CERT_CHAIN: { req: { chain: [derLike(452, 2), derLike(447, 3)] }, res: {} },
    PUT_PRIVATE_KEY: { req: { curve: 'P-256', pkcs8: derLike(138, 4) }, res: {} },
    PUT_SYMMETRIC_KEY: { req: { key: derLike(32, 5) }, res: {} },
    GET_EK: { req: {}, res: { ekPublic: derLike(314, 6), ekCertificate: derLike(900, 8) } },
    SIGN_CHALLENGE: {
      req: { nonce: derLike(32, 9), bank: 1, kind: 1 },
      res: { signature: derLike(71, 10) },
    },
    COMMIT: { req: { commitId }, res: { commitId } },
    FACTORY_RESET: { req: { confirm: 'ERASE' }, res: {} },
  };
}
