import { readFile, rm, writeFile } from 'node:fs/promises';
import { step } from './tpmTool.js';

/**
 * A software TPM's device side of DPS's TPM attestation (dps-protocol.md §2.5), as the Azure IoT
 * SDKs run it, with tpm2-tools: the SDK's SRK, ActivateCredential with the EK, Import of the
 * identity key DPS duplicated to the SRK, and HMAC with it. **Test material only.**
 */

/** Where the Azure IoT SDKs keep the storage root key they import DPS's identity key under. */
const SDK_SRK_HANDLE = '0x81000001';

/**
 * The Azure SDKs' SRK template (Node `tpm.ts`, C `hsm_client_tpm.c`): RSA-2048 with AES-128-CFB
 * for its children, in tpm2_createprimary's words. tpm2-tools leaves the scheme NULL and the
 * exponent 0 (65537), as the template has them.
 */
const SDK_SRK_TEMPLATE = [
  '-g',
  'sha256',
  '-G',
  'rsa2048:aes128cfb',
  '-a',
  'restricted|decrypt|fixedtpm|fixedparent|noda|userwithauth|sensitivedataorigin',
];

/** tpm2-tools' credential file (tpm2_makecredential -o): magic 0xBADCC0DE, then version 1. */
const CREDENTIAL_FILE_HEADER = Uint8Array.of(0xba, 0xdc, 0xc0, 0xde, 0, 0, 0, 1);

/** The device side of DPS's TPM attestation: what dps/device's DeviceTpm asks of a TPM. */
export interface TpmIdentitySide {
  /**
   * TPM2B_PUBLIC of the SRK at 0x81000001, created from the Azure SDK's SRK template (RSA-2048,
   * AES-128-CFB, restricted|decrypt|fixedTPM|fixedParent|noDA|userWithAuth|sensitiveDataOrigin)
   * and persisted on first use.
   */
  storageRootKey(): Promise<Uint8Array>;
  /** The RSA EK at 0x81010001, as TPM2B_PUBLIC (swtpm_setup persisted it). */
  endorsementKey(): Promise<Uint8Array>;
  /**
   * What an Azure SDK does with DPS's authenticationKey: ActivateCredential with the EK
   * (PolicySecret endorsement session), Import under the SRK with the inner wrap key, Load.
   * Rejects when the blob is not for this TPM.
   */
  activateIdentityKey(blob: Uint8Array): Promise<void>;
  /** TPM2_HMAC (SHA-256) with the activated identity key. */
  signWithIdentity(data: Uint8Array): Promise<Uint8Array>;
}

/**
 * The device side of DPS's TPM attestation, as the Azure SDKs run it, with tpm2-tools. One
 * command at a time: the TPM holds three loaded objects and each step flushes what it loaded,
 * which would pull an object from under a concurrent step.
 */
export function identityDevice(io: {
  env: NodeJS.ProcessEnv;
  output: (name: string) => string;
  readPublic: (handle: string) => Promise<Uint8Array>;
  /** The persistent RSA EK the credential is activated with. */
  ekHandle: string;
}): TpmIdentitySide {
  const { env, output } = io;
  const tpm2 = (command: string, args: string[]): Promise<string> => step(command, args, { env });
  const flushTransient = (): Promise<string> => tpm2('tpm2_flushcontext', ['-t']);
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work, work);
    queue = result.catch(() => undefined);
    return result;
  };
  let srkPersisted = false;
  /** Creates and persists the SDK's SRK unless the TPM holds one at its handle already. */
  const persistSrk = async (): Promise<void> => {
    if (srkPersisted) return;
    const handles = await tpm2('tpm2_getcap', ['handles-persistent']);
    if (!handles.split(/\s+/).includes(SDK_SRK_HANDLE)) {
      const context = `${output('srk')}.ctx`;
      await tpm2('tpm2_createprimary', ['-C', 'o', ...SDK_SRK_TEMPLATE, '-c', context]);
      await tpm2('tpm2_evictcontrol', ['-C', 'o', '-c', context, SDK_SRK_HANDLE]);
      await flushTransient();
    }
    srkPersisted = true;
  };
  let identityContext: string | undefined;

  const activate = async (blob: Uint8Array): Promise<void> => {
    identityContext = undefined;
    const [idObject, secret, duplicate, seed, publicArea] = splitAuthenticationKey(blob);
    await persistSrk();
    const file = async (name: string, ...parts: Uint8Array[]): Promise<string> => {
      const path = output(name);
      await writeFile(path, Buffer.concat(parts));
      return path;
    };
    const credential = await file('credential', CREDENTIAL_FILE_HEADER, idObject!, secret!);
    const innerKey = output('inner-wrap-key');
    // The EK's authPolicy is PolicySecret(TPM_RH_ENDORSEMENT), and it has no userWithAuth.
    const session = output('session');
    await tpm2('tpm2_startauthsession', ['--policy-session', '-S', session]);
    await withCleanup(
      async () => {
        await tpm2('tpm2_policysecret', ['-S', session, '-c', 'e']);
        await tpm2('tpm2_activatecredential', [
          ...['-c', SDK_SRK_HANDLE, '-C', io.ekHandle],
          ...['-i', credential, '-o', innerKey, '-P', `session:${session}`],
        ]);
      },
      () => tpm2('tpm2_flushcontext', [session]),
    );
    const publicFile = await file('identity-public', publicArea!);
    const privateFile = output('identity-private');
    try {
      // -k: the inner wrapper's key; tpm2-tools takes it as AES-128-CFB, the SDKs' 16 bytes.
      await tpm2('tpm2_import', [
        ...['-C', SDK_SRK_HANDLE, '-u', publicFile, '-i', await file('duplicate', duplicate!)],
        ...['-s', await file('seed', seed!), '-k', innerKey, '-r', privateFile],
      ]);
    } finally {
      await rm(innerKey, { force: true });
    }
    const context = `${output('identity')}.ctx`;
    const load = ['-C', SDK_SRK_HANDLE, '-u', publicFile, '-r', privateFile, '-c', context];
    await tpm2('tpm2_load', load);
    await flushTransient();
    identityContext = context;
  };

  const sign = async (data: Uint8Array): Promise<Uint8Array> => {
    const context = identityContext;
    if (context === undefined) throw new Error('no identity key is activated');
    const input = output('hmac-input');
    await writeFile(input, data);
    const mac = output('hmac');
    // The saved context loads again for each command; the copy it loads is flushed after.
    await withCleanup(
      () => tpm2('tpm2_hmac', ['-c', context, '-g', 'sha256', '-o', mac, input]),
      flushTransient,
    );
    return new Uint8Array(await readFile(mac));
  };

  return {
    storageRootKey: () =>
      serial(async () => {
        await persistSrk();
        return io.readPublic(SDK_SRK_HANDLE);
      }),
    endorsementKey: () => serial(() => io.readPublic(io.ekHandle)),
    activateIdentityKey: (blob) => serial(() => activate(blob)),
    signWithIdentity: (data) => serial(() => sign(data)),
  };
}

/** Runs `work`, then `cleanup`; a failed cleanup is reported only when `work` succeeded. */
async function withCleanup<T>(work: () => Promise<T>, cleanup: () => Promise<unknown>): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (err) {
    await cleanup().catch(() => undefined);
    throw err;
  }
  await cleanup();
  return result;
}

/**
 * DPS's authenticationKey split as the Azure SDKs read it: TPM2B_ID_OBJECT,
 * TPM2B_ENCRYPTED_SECRET, TPM2B_PRIVATE, TPM2B_ENCRYPTED_SECRET, TPM2B_PUBLIC, TPM2B_DATA, each
 * with its size prefix.
 */
function splitAuthenticationKey(blob: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (let part = 0; part < 6; part++) {
    const size = at + 2 <= blob.length ? (blob[at]! << 8) | blob[at + 1]! : -1;
    if (size < 0 || at + 2 + size > blob.length) {
      throw new Error(`the authenticationKey is truncated in its part ${part + 1} of 6`);
    }
    parts.push(blob.subarray(at, at + 2 + size));
    at += 2 + size;
  }
  if (at !== blob.length) throw new Error(`${blob.length - at} bytes after the authenticationKey`);
  return parts;
}
