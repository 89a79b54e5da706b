import { createPrivateKey, type KeyObject } from 'node:crypto';
// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

import type { CaSigner } from '../caSigner.js';
import { CertError } from '../certErrors.js';
import { openSecret, type KeyWrapper, type KeyWrapperKind } from '../custody/secretBox.js';
import { SoftwareCaSigner } from '../softwareCaSigner.js';
import { CA_KEY_CONTEXT, readCa } from './caStore.js';
import type { CaMode } from './caRecord.js';
import { certificatesFromPem } from './pemCertificates.js';
import { validateIssuingCa, type CaKeyAlgorithm } from './validateIssuingCa.js';

/** What a supervisor sees about the CA. No secrets. */
export interface CaStatus {
  mode: CaMode;
  subject: string;
  issuer: string;
  /** When issuing may start: the latest notBefore of the issuing CA and the CAs above it. */
  notBefore: Date;
  /**
   * When issuing stops: the issuing CA's notAfter, or that of a CA above it if that ends sooner.
   * No leaf outlives it (leafValidity).
   */
  notAfter: Date;
  /** Whole days until `notAfter`; negative once it has passed. */
  daysLeft: number;
  locked: boolean;
  keyAlgorithm: CaKeyAlgorithm;
  createdAt: Date;
  /** How the issuing key is sealed, i.e. what unlock() needs. */
  unlockWith: KeyWrapperKind;
}

/** The CA for this session: its certificates and a signer. Obtain it from LockedCa. */
export interface UnlockedCa {
  readonly issuingCertificateDer: Uint8Array;
  /** The issuing CA first, then each CA above it, up to and including the root. */
  readonly chainDer: readonly Uint8Array[];
  /** Refuses with CA_LOCKED after lock(), and with CA_EXPIRED once the CA has expired. */
  readonly signer: CaSigner;
  status(): CaStatus;
}

/**
 * The station's CA as opened from disk: locked until a supervisor unlocks it for the session.
 * The issuance service holds one of these and calls requireUnlocked() for every certificate.
 */
export interface LockedCa {
  readonly caDir: string;
  status(): CaStatus;
  /**
   * Unseals the issuing key and re-validates the CA (validateIssuingCa) before it may sign.
   * Throws CUSTODY_* codes for the key, CA_* codes for the CA (CA_EXPIRED, CA_KEY_MISMATCH...).
   */
  unlock(wrapper: KeyWrapper): Promise<UnlockedCa>;
  /** The unlocked CA, or CA_LOCKED; CA_EXPIRED / CA_NOT_YET_VALID if it may not issue now. */
  requireUnlocked(): UnlockedCa;
  /** Drops the unlocked key; signers handed out before refuse from now on. */
  lock(): void;
}

const DAY_MS = 86_400_000;

function parseStored(pem: string, what: string): { der: Uint8Array; cert: x509.X509Certificate } {
  try {
    const [der] = certificatesFromPem(pem);
    return { der: der!, cert: new x509.X509Certificate(Uint8Array.from(der!)) };
  } catch (err) {
    throw new CertError('CA_RECORD_CORRUPT', `${what} cannot be read`, { cause: err });
  }
}

/**
 * Opens the CA in `caDir` (CA_NOT_INITIALISED if there is none) without unlocking it. `now` is
 * the clock for validity checks; tests move it.
 */
export async function openCa(caDir: string, options: { now?: () => Date } = {}): Promise<LockedCa> {
  const now = options.now ?? (() => new Date());
  const { record, issuingKey } = await readCa(caDir);
  const issuing = parseStored(record.issuingCertificatePem, 'the issuing CA certificate');
  const above = record.chainPems.map((pem, i) => parseStored(pem, `chain certificate ${i + 1}`));
  const path = [issuing, ...above];
  const validFrom = Math.max(...path.map((c) => c.cert.notBefore.getTime()));
  const validUntil = Math.min(...path.map((c) => c.cert.notAfter.getTime()));
  let session: UnlockedCa | undefined;

  const status = (): CaStatus => ({
    mode: record.mode,
    subject: issuing.cert.subject,
    issuer: issuing.cert.issuer,
    notBefore: new Date(validFrom),
    notAfter: new Date(validUntil),
    daysLeft: Math.floor((validUntil - now().getTime()) / DAY_MS),
    locked: session === undefined,
    keyAlgorithm: record.keyAlgorithm,
    createdAt: new Date(record.createdAt),
    unlockWith: issuingKey.wrappedKey.kind,
  });

  /** Throws unless `unlocked` is the current session and the CA may issue at this moment. */
  const assertUsable = (unlocked: UnlockedCa | undefined): void => {
    if (unlocked === undefined || unlocked !== session) throw new CertError('CA_LOCKED');
    const t = now().getTime();
    if (t > validUntil)
      throw new CertError('CA_EXPIRED', `expired ${new Date(validUntil).toISOString()}`);
    if (t < validFrom)
      throw new CertError('CA_NOT_YET_VALID', `from ${new Date(validFrom).toISOString()}`);
  };

  // The software path: the issuing key comes out of its sealed file into a KeyObject (OpenSSL
  // memory, not the JS heap). A PKCS#11 token would replace exactly this: unlock(pin) finds the
  // key on the token and builds a CaSigner that calls C_Sign, the key never leaves the token,
  // there is no issuing-key.sealed.json, and validateIssuingCa runs without `privateKey`, the
  // match checked instead by comparing the token key's SPKI with the certificate's.
  const unlock = async (wrapper: KeyWrapper): Promise<UnlockedCa> => {
    const pkcs8 = await openSecret(issuingKey, wrapper, CA_KEY_CONTEXT.issuingKey);
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    } catch (err) {
      throw new CertError('CUSTODY_KEY_FILE_CORRUPT', 'sealed issuing key is not PKCS#8', {
        cause: err,
      });
    } finally {
      pkcs8.fill(0);
    }
    const validated = validateIssuingCa({
      certificateDer: issuing.der,
      chainDer: above.map((c) => c.der),
      privateKey,
      now: now(),
    });
    const inner = new SoftwareCaSigner(privateKey);
    const unlocked: UnlockedCa = {
      issuingCertificateDer: validated.certificateDer,
      chainDer: [validated.certificateDer, ...validated.chainDer],
      signer: {
        algorithm: inner.algorithm,
        publicKeySpki: inner.publicKeySpki,
        sign: async (data) => {
          assertUsable(unlocked);
          return inner.sign(data);
        },
      },
      status,
    };
    session = unlocked;
    return unlocked;
  };

  return {
    caDir,
    status,
    unlock,
    requireUnlocked: () => {
      assertUsable(session);
      return session!;
    },
    lock: () => {
      session = undefined;
    },
  };
}
