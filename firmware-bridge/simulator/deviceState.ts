import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceConfig } from '../codec/messages.js';
import { writeFileAtomic } from './atomicFile.js';
import {
  committedBankBytes,
  emptyBank,
  isBankEmpty,
  layerConfig,
  mergeBanks,
  type CommittedBank,
  type DeviceIdentity,
  type IdentityKey,
  type StagedBank,
} from './deviceBanks.js';
import { parseFlash, serializeFlash } from './deviceStateFile.js';

/** A read-only snapshot for assertions; copies, so a test cannot reach into the device. */
export interface DeviceStateView {
  identity: DeviceIdentity;
  committed: CommittedBank;
  staged: StagedBank;
  /** 1 when an identity key is committed (INFO key 8). */
  identityState: 0 | 1;
}

/**
 * The persistent state of one simulated device: identity fields fixed at manufacture, the
 * committed bank in "flash" (one JSON file per device) and the staged bank in RAM.
 *
 * `bootCount` changes on every reboot, so work that started before a reboot can tell that its
 * results belong to a device that no longer exists (see deviceFirmware).
 */
export class DeviceState {
  private committedBank: CommittedBank;
  private stagedBank: StagedBank = emptyBank();
  private boots = 0;
  /** Flash writes run one after another, so a late write can never overtake a newer one. */
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    readonly identity: DeviceIdentity,
    committed: CommittedBank,
    readonly file: string,
  ) {
    this.committedBank = committed;
  }

  /**
   * Opens the device whose flash file lives in `stateDir`, named after the serial number. An
   * existing file restores identity and committed bank (the device remembers across simulator
   * restarts); otherwise the device is "manufactured" with `identity` and an empty bank.
   */
  static async open(stateDir: string, identity: DeviceIdentity): Promise<DeviceState> {
    await mkdir(stateDir, { recursive: true });
    const file = join(stateDir, `${identity.serialNumber}.json`);
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== undefined) {
      const image = parseFlash(text, file);
      return new DeviceState(image.identity, image.committed, file);
    }
    const state = new DeviceState(identity, emptyBank(), file);
    await state.persist(state.committedBank);
    return state;
  }

  get committed(): Readonly<CommittedBank> {
    return this.committedBank;
  }

  get staged(): Readonly<StagedBank> {
    return this.stagedBank;
  }

  get bootCount(): number {
    return this.boots;
  }

  get identityState(): 0 | 1 {
    return this.committedBank.identityKey === undefined ? 0 : 1;
  }

  get hasStaged(): boolean {
    return !isBankEmpty(this.stagedBank);
  }

  /** Bank 1 of GET_CONFIG: staged values over committed ones. */
  effectiveConfig(): DeviceConfig {
    return layerConfig(this.committedBank.config, this.stagedBank.config);
  }

  stageConfig(config: DeviceConfig): void {
    this.stagedBank.config = layerConfig(this.stagedBank.config, config);
  }

  /** A new key makes any staged certificate chain meaningless, so it is dropped with it. */
  stageIdentityKey(key: IdentityKey): void {
    this.stagedBank.identityKey = key;
    delete this.stagedBank.certChain;
  }

  stageCertChain(chain: Uint8Array[]): void {
    this.stagedBank.certChain = chain;
  }

  stageSymmetricKey(key: Uint8Array): void {
    this.stagedBank.symmetricKey = key;
  }

  /**
   * Writes staged over committed atomically and clears the staged bank. Returns the bytes
   * written. When the write fails, memory keeps the old committed bank, as the flash does.
   */
  async commit(commitId: Uint8Array): Promise<number> {
    const next = mergeBanks(this.committedBank, this.stagedBank, commitId);
    const boot = this.boots;
    await this.persist(next);
    this.committedBank = next;
    // A reboot during the flash write has already dropped the staged bank; anything staged
    // since belongs to the new boot and must survive.
    if (boot === this.boots) this.stagedBank = emptyBank();
    return committedBankBytes(next);
  }

  /** Erases both banks and the last commit id; identity fields stay. Returns bytes erased. */
  async factoryReset(): Promise<number> {
    const erased = committedBankBytes(this.committedBank);
    const blank = emptyBank();
    await this.persist(blank);
    this.committedBank = blank;
    this.stagedBank = emptyBank();
    return erased;
  }

  /** Power cycle: RAM (the staged bank) is gone, flash stays. */
  reboot(): void {
    this.boots++;
    this.stagedBank = emptyBank();
  }

  view(): DeviceStateView {
    return structuredClone({
      identity: this.identity,
      committed: this.committedBank,
      staged: this.stagedBank,
      identityState: this.identityState,
    });
  }

  private persist(committed: CommittedBank): Promise<void> {
    const text = serializeFlash({ identity: this.identity, committed });
    const write = this.writes.then(() => writeFileAtomic(this.file, text));
    this.writes = write.catch(() => undefined);
    return write;
  }
}
