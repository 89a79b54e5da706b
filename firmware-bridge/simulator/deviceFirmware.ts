import { PROTOCOL_VERSION } from '../codec/frame.js';
import { MessageFormatError } from '../codec/cborSchema.js';
import {
  BANK_COMMITTED,
  CHALLENGE_KIND_X509,
  encodeResponse,
  messageNames,
  type DeviceFeatures,
  type MessageName,
  type Request,
  type Response,
} from '../codec/messages.js';
import {
  certificateMatchesKey,
  generateKeyAndCsr,
  importPkcs8,
  isSupportedCurve,
  parseCertificate,
  signChallengeEcdsa,
  signChallengeHmac,
} from './deviceCrypto.js';
import type { DeviceWorkContext } from './deviceLatencies.js';
import { isRefusal, refuse, type DeviceRefusal, type FirmwareOutcome } from './deviceOutcome.js';
import { decodeDeviceRequest } from './deviceRequestDecoder.js';
import type { DeviceState } from './deviceState.js';

/**
 * What the TPM vendor's factory left in the TPM soldered onto the board. The simulator hands
 * these bytes out as they are and never looks inside: they may come from a TPM simulator
 * (swtpm), a dump of a real chip, or be arbitrary bytes in a test.
 */
export interface TpmContents {
  /** The endorsement key's public area as the TPM marshals it (TPM2B_PUBLIC). */
  ekPublic: Uint8Array;
  /** The EK certificate (DER) from the TPM's NV storage; absent when the vendor wrote none. */
  ekCertificate?: Uint8Array;
}

/**
 * Faults that strike inside the firmware rather than on the line; `DeviceFaults` implements
 * it, switchable at runtime.
 */
export interface FirmwareFaults {
  /** When set, GET_EK hands out only this many leading bytes of the EK certificate. */
  readonly ekCertificateReadLimit: number | undefined;
}

const NO_FIRMWARE_FAULTS: FirmwareFaults = Object.freeze({ ekCertificateReadLimit: undefined });

/** What a device announces and enforces; fixed per device model. */
export interface FirmwareConfig {
  /** Largest frame body the device accepts (INFO key 2). */
  maxFrame: number;
  /** Largest reassembled request the device accepts (INFO key 9). */
  maxMessage: number;
  features: DeviceFeatures;
  /** Answer PUT_PRIVATE_KEY with LOCKED rather than replace a committed identity key. */
  lockCommittedIdentity: boolean;
  /** The device's TPM: required when `features.tpm` is true, refused when it is false. */
  tpm?: TpmContents;
}

export const DEFAULT_FEATURES: Readonly<DeviceFeatures> = Object.freeze({
  keygenCurves: ['P-256', 'P-384'],
  tpm: false,
  symmetricKeySlot: true,
  keyInjection: true,
});

export const DEFAULT_FIRMWARE_CONFIG: Readonly<FirmwareConfig> = Object.freeze({
  maxFrame: 512,
  maxMessage: 8192,
  features: DEFAULT_FEATURES,
  lockCommittedIdentity: false,
});

type Handled<N extends MessageName> =
  { res: Response<N>; work?: DeviceWorkContext } | DeviceRefusal;
type Handlers = { [N in MessageName]: (req: Request<N>) => Promise<Handled<N>> | Handled<N> };

/**
 * The message handlers of a device (PROTOCOL.md §4): decode a request, act on the device
 * state, encode the response or name the refusal. Framing, transfers, the response cache and
 * timing live in deviceEndpoint; this class only knows what each message means.
 */
export class DeviceFirmware {
  readonly config: FirmwareConfig;
  private bootAtStart = 0;

  constructor(
    readonly state: DeviceState,
    config: Partial<FirmwareConfig> = {},
    private readonly faults: FirmwareFaults = NO_FIRMWARE_FAULTS,
  ) {
    this.config = { ...DEFAULT_FIRMWARE_CONFIG, ...config };
    const { maxFrame, maxMessage, features } = this.config;
    if (!Number.isInteger(maxFrame) || maxFrame < 256 || maxFrame > 65_535) {
      throw new RangeError(`maxFrame must be an integer in 256..65535, got ${maxFrame}`);
    }
    if (!Number.isInteger(maxMessage) || maxMessage < 256) {
      throw new RangeError(`maxMessage must be an integer ≥ 256, got ${maxMessage}`);
    }
    const unknown = features.keygenCurves.filter((c) => !isSupportedCurve(c));
    if (unknown.length > 0) throw new RangeError(`cannot generate keys on ${unknown.join(', ')}`);
    const tpm = checkTpm(state.identity.serialNumber, features.tpm, this.config.tpm);
    if (tpm !== undefined) this.config.tpm = tpm;
  }

  /** Executes one whole request. Never throws for anything the host sent. */
  async execute(type: number, data: Uint8Array): Promise<FirmwareOutcome> {
    const name = messageNames.get(type);
    if (name === undefined) {
      return { status: 'error', refusal: refuse('UNKNOWN_TYPE', `type 0x${type.toString(16)}`) };
    }
    return this.run(name, data);
  }

  private async run<N extends MessageName>(name: N, data: Uint8Array): Promise<FirmwareOutcome> {
    const req = decodeDeviceRequest(name, data);
    if (isRefusal(req)) return { status: 'error', refusal: req };
    this.bootAtStart = this.state.bootCount;
    const handler = this.handlers[name] as (req: Request<N>) => Promise<Handled<N>> | Handled<N>;
    const handled = await handler(req);
    if (this.state.bootCount !== this.bootAtStart) return { status: 'aborted' };
    if (isRefusal(handled)) return { status: 'error', refusal: handled };
    return { status: 'ok', data: encodeResponse(name, handled.res), work: handled.work ?? {} };
  }

  /** True when a reboot happened since the request started: its results must not be staged. */
  private get rebooted(): boolean {
    return this.state.bootCount !== this.bootAtStart;
  }

  private readonly handlers: Handlers = {
    INFO: () => {
      const { identity } = this.state;
      return {
        res: {
          protocolVersion: PROTOCOL_VERSION,
          maxFrame: this.config.maxFrame,
          serialNumber: identity.serialNumber,
          model: identity.model,
          hardwareRevision: identity.hardwareRevision,
          firmwareVersion: identity.firmwareVersion,
          features: this.config.features,
          identityState: this.state.identityState,
          maxMessage: this.config.maxMessage,
        },
      };
    },

    GET_CONFIG: ({ bank }) => ({
      res: bank === BANK_COMMITTED ? this.state.committed.config : this.state.effectiveConfig(),
    }),

    SET_CONFIG: (config) => {
      // The limits of PROTOCOL.md §4.3 are the schema's bounds, already checked by the decoder.
      this.state.stageConfig(config);
      return { res: {} };
    },

    GEN_KEY_CSR: async ({ curve, commonName }) => {
      if (!this.config.features.keygenCurves.includes(curve) || !isSupportedCurve(curve)) {
        return refuse('NOT_SUPPORTED', `no key generation on ${curve}`);
      }
      const { key, csr } = await generateKeyAndCsr(curve, commonName);
      if (this.rebooted) return refuse('BAD_STATE', 'rebooted during key generation');
      this.state.stageIdentityKey(key);
      return { res: { csr } };
    },

    PUT_CERT_CHAIN: ({ chain }) => {
      const key = this.state.staged.identityKey;
      if (key === undefined) return refuse('BAD_STATE', 'no staged key');
      const certs = chain.map(parseCertificate);
      const bad = certs.findIndex((c) => c === null);
      if (bad !== -1) return refuse('MALFORMED', `chain[${bad}]: not a DER certificate`);
      if (!certificateMatchesKey(certs[0]!, key)) {
        return refuse('KEY_MISMATCH', 'leaf key differs from the staged key');
      }
      this.state.stageCertChain(chain);
      return { res: {} };
    },

    PUT_PRIVATE_KEY: ({ curve, pkcs8 }) => {
      if (!this.config.features.keyInjection) return refuse('NOT_SUPPORTED', 'no key injection');
      if (this.config.lockCommittedIdentity && this.state.committed.identityKey !== undefined) {
        return refuse('LOCKED', 'identity key committed');
      }
      if (!isSupportedCurve(curve)) return refuse('INVALID_ARGUMENT', `curve ${curve}`);
      const key = importPkcs8(curve, pkcs8);
      if (key === 'unreadable') return refuse('MALFORMED', 'pkcs8: not a PKCS#8 private key');
      if (key === 'wrong-curve') return refuse('INVALID_ARGUMENT', `pkcs8: not an EC ${curve} key`);
      this.state.stageIdentityKey(key);
      return { res: {} };
    },

    PUT_SYMMETRIC_KEY: ({ key }) => {
      if (!this.config.features.symmetricKeySlot) return refuse('NOT_SUPPORTED', 'no key slot');
      this.state.stageSymmetricKey(key);
      return { res: {} };
    },

    GET_EK: () => {
      const { tpm } = this.config;
      if (tpm === undefined) return refuse('NOT_SUPPORTED', 'no TPM');
      const { ekPublic, ekCertificate } = tpm;
      if (ekCertificate === undefined) return { res: { ekPublic } };
      const limit = this.faults.ekCertificateReadLimit;
      return { res: { ekPublic, ekCertificate: ekCertificate.subarray(0, limit) } };
    },

    SIGN_CHALLENGE: ({ nonce, bank, kind }) => {
      // Bank 1 means the key staged since the last COMMIT, with no fallback to the committed
      // one: the host signs with it to prove the key it is about to commit.
      const source = bank === BANK_COMMITTED ? this.state.committed : this.state.staged;
      const bankName = bank === BANK_COMMITTED ? 'committed' : 'staged';
      if (kind === CHALLENGE_KIND_X509) {
        if (source.identityKey === undefined)
          return refuse('BAD_STATE', `no ${bankName} identity key`);
        return { res: { signature: signChallengeEcdsa(source.identityKey, nonce) } };
      }
      if (source.symmetricKey === undefined)
        return refuse('BAD_STATE', `no ${bankName} symmetric key`);
      return { res: { signature: signChallengeHmac(source.symmetricKey, nonce) } };
    },

    COMMIT: async ({ commitId }) => {
      if (!this.state.hasStaged) {
        const last = this.state.committed.lastCommitId;
        if (last !== undefined && Buffer.from(last).equals(commitId)) {
          // The repeat of a COMMIT whose response was lost: success again, nothing written.
          return { res: { commitId }, work: { committedBytes: 0 } };
        }
        return refuse('NOTHING_STAGED');
      }
      try {
        const committedBytes = await this.state.commit(commitId);
        return { res: { commitId }, work: { committedBytes } };
      } catch (err) {
        return refuse('STORAGE', `flash write: ${(err as NodeJS.ErrnoException).code ?? 'failed'}`);
      }
    },

    FACTORY_RESET: async ({ confirm }) => {
      if (confirm !== 'ERASE') return refuse('INVALID_ARGUMENT', 'confirm must be "ERASE"');
      try {
        const erasedBytes = await this.state.factoryReset();
        return { res: {}, work: { erasedBytes } };
      } catch (err) {
        return refuse('STORAGE', `flash erase: ${(err as NodeJS.ErrnoException).code ?? 'failed'}`);
      }
    },
  };
}

/**
 * Checks that INFO's TPM flag and the TPM contents agree and that GET_EK can carry the contents
 * (the codec's GET_EK bounds); returns a copy, so the caller's arrays cannot change the chip.
 */
function checkTpm(
  serialNumber: string,
  announced: boolean,
  tpm: TpmContents | undefined,
): TpmContents | undefined {
  if (announced && tpm === undefined) {
    throw new RangeError(
      `${serialNumber}: features.tpm is true but no TPM contents were given (tpm.ekPublic)`,
    );
  }
  if (!announced && tpm !== undefined) {
    throw new RangeError(
      `${serialNumber}: TPM contents were given but features.tpm is false (INFO would deny the TPM)`,
    );
  }
  if (tpm === undefined) return undefined;
  const copy: TpmContents = { ekPublic: new Uint8Array(tpm.ekPublic) };
  if (tpm.ekCertificate !== undefined) copy.ekCertificate = new Uint8Array(tpm.ekCertificate);
  try {
    encodeResponse('GET_EK', copy);
  } catch (err) {
    if (!(err instanceof MessageFormatError)) throw err;
    throw new RangeError(`${serialNumber}: tpm.${err.message} (GET_EK cannot carry it)`);
  }
  return copy;
}
