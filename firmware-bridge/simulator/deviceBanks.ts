import type { Curve, DeviceConfig } from '../codec/messages.js';

/** Fixed at manufacture; survives FACTORY_RESET. */
export interface DeviceIdentity {
  serialNumber: string;
  model: string;
  hardwareRevision: string;
  firmwareVersion: string;
}

/** An ECDSA identity key as the device keeps it in its secure storage. */
export interface IdentityKey {
  curve: Curve;
  /** PKCS#8 DER of the private key. */
  pkcs8: Uint8Array;
}

/** The contents of one bank. Absent fields are unset. */
export interface BankContents {
  config: DeviceConfig;
  identityKey?: IdentityKey;
  /** DER certificates, leaf first. Only ever present together with `identityKey`. */
  certChain?: Uint8Array[];
  symmetricKey?: Uint8Array;
}

/** What the device boots with. */
export interface CommittedBank extends BankContents {
  /** Id of the COMMIT that wrote this bank, for the idempotent repeat of PROTOCOL.md §4.10. */
  lastCommitId?: Uint8Array;
}

/** What SET_CONFIG and the key requests wrote since the last COMMIT or reboot (RAM). */
export type StagedBank = BankContents;

export function emptyBank(): BankContents {
  return { config: {} };
}

export function isBankEmpty(bank: BankContents): boolean {
  return (
    Object.keys(bank.config).length === 0 &&
    bank.identityKey === undefined &&
    bank.certChain === undefined &&
    bank.symmetricKey === undefined
  );
}

/** Staged config values over committed ones: what COMMIT would produce (PROTOCOL.md §4.2). */
export function layerConfig(committed: DeviceConfig, staged: DeviceConfig): DeviceConfig {
  const out: DeviceConfig = { ...committed };
  for (const [name, value] of Object.entries(staged) as [keyof DeviceConfig, unknown][]) {
    if (value !== undefined) Object.assign(out, { [name]: value });
  }
  return out;
}

/** The committed bank COMMIT produces from `committed` and `staged`. */
export function mergeBanks(
  committed: CommittedBank,
  staged: StagedBank,
  commitId: Uint8Array,
): CommittedBank {
  const next: CommittedBank = {
    config: layerConfig(committed.config, staged.config),
    lastCommitId: commitId,
  };
  // A new key invalidates the old certificate chain: they are replaced as a pair.
  const keyPair =
    staged.identityKey !== undefined
      ? { identityKey: staged.identityKey, certChain: staged.certChain }
      : { identityKey: committed.identityKey, certChain: committed.certChain };
  if (keyPair.identityKey !== undefined) next.identityKey = keyPair.identityKey;
  if (keyPair.certChain !== undefined) next.certChain = keyPair.certChain;
  const symmetricKey = staged.symmetricKey ?? committed.symmetricKey;
  if (symmetricKey !== undefined) next.symmetricKey = symmetricKey;
  return next;
}

const utf8 = new TextEncoder();

/**
 * Bytes the committed bank occupies in flash, counted as the raw payload (strings, DER, keys),
 * which is what a firmware would store; it sizes the flash write of COMMIT.
 */
export function committedBankBytes(bank: CommittedBank): number {
  let n = 0;
  const { globalEndpoint, idScope, registrationId, extra } = bank.config;
  for (const text of [globalEndpoint, idScope, registrationId]) {
    if (text !== undefined) n += utf8.encode(text).length;
  }
  for (const [k, v] of Object.entries(extra ?? {}))
    n += utf8.encode(k).length + utf8.encode(v).length;
  n += bank.identityKey?.pkcs8.length ?? 0;
  for (const der of bank.certChain ?? []) n += der.length;
  n += bank.symmetricKey?.length ?? 0;
  n += bank.lastCommitId?.length ?? 0;
  return n;
}
