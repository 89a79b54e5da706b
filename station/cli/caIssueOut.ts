import { constants } from 'node:fs';
import { access, lstat, open, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../../certs/ca/caFiles.js';
import { fileThereAlready, named } from './recordedExport.js';
import { stationCommand } from './stationCommand.js';
import { UsageError } from './usageError.js';

/**
 * A certificate issued and recorded in the ledger whose --out FILE then could not be written. The
 * PEM went to standard output instead; the serial is named so that it can be revoked, since the
 * ledger (and `ca list`) shows it issued whether or not anyone kept it.
 */
export class CaIssuedNotSavedError extends Error {
  readonly code = 'CA_ISSUED_NOT_SAVED';

  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
    this.name = 'CaIssuedNotSavedError';
  }
}

/**
 * The file `ca issue --out FILE` writes the certificate into, checked before the passphrase is
 * asked and before anything is issued: a folder, a file there already (without --force, as for
 * `queue export`) or a place that cannot be written is refused while nothing is in the ledger.
 * A new file is made only when there is a certificate for it: made at the check, it stayed
 * behind empty when the command was killed at the passphrase prompt, and the next `--out` of
 * that name was then refused as a file there already.
 */
export class IssueOutFile {
  private constructor(
    /** The earlier file --force writes over, opened at the check; none for a new file. */
    private readonly handle: FileHandle | undefined,
    readonly typed: string,
    readonly file: string,
    /**
     * An earlier file --force replaces: only once there is a certificate for it, by a new file
     * renamed over it (mode 0600, as every file the CA writes).
     */
    private readonly replacing: boolean,
  ) {}

  static async open(typed: string, force: boolean): Promise<IssueOutFile> {
    const file = resolve(typed);
    const refused = (err: unknown): UsageError => {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      return new UsageError(`--out ${named(typed, file)}: cannot be written there (${code})`);
    };
    // lstat: a link whose target is gone is a name in use all the same (the exclusive write
    // would refuse it after the certificate was issued).
    const found = await stat(file).catch(() => lstat(file).catch(() => undefined));
    if (found?.isDirectory()) {
      throw new UsageError(`--out ${named(typed, file)}: that is a folder; give a file name`);
    }
    if (found === undefined) {
      // A new file: its folder must take one (it exists, is a folder, and is writable).
      await access(dirname(file), constants.W_OK | constants.X_OK).catch((err: unknown) => {
        throw refused(err);
      });
      const folder = await stat(dirname(file));
      if (!folder.isDirectory()) throw refused(Object.assign(new Error(), { code: 'ENOTDIR' }));
      return new IssueOutFile(undefined, typed, file, false);
    }
    if (!force) throw fileThereAlready(typed, file);
    // Without O_TRUNC: a wrong passphrase or a refused CSR leaves the earlier file as it was.
    const handle = await open(file, constants.O_WRONLY).catch((err: unknown) => {
      throw refused(err);
    });
    const replacing = (await handle.stat()).isFile();
    return new IssueOutFile(handle, typed, file, replacing);
  }

  /**
   * Writes the issued certificate's PEM. If that fails, the certificate is in the ledger all the
   * same: the PEM is printed on standard output so it is not lost, and the error names the
   * serial to keep or revoke.
   */
  async write(
    pem: string,
    issued: { serialNumber: string; registrationId: string },
    dataDir: string,
  ): Promise<void> {
    try {
      if (this.handle === undefined) {
        // Exclusive: a file made there since the check is not overwritten.
        await writeFile(this.file, pem, { flag: 'wx', mode: 0o644 });
      } else if (this.replacing) {
        // A new file beside it, renamed over it: a full disk or a kill leaves the earlier file
        // whole, never emptied or cut short. The early open only proved the place writable.
        await this.handle.close();
        await writeFileAtomic(this.file, pem);
      } else {
        await this.handle.writeFile(pem);
        await this.handle.close();
      }
    } catch (err) {
      process.stdout.write(pem);
      const revoke = stationCommand(
        `ca revoke ${issued.serialNumber} --reason 'certificate not saved'`,
        dataDir,
      );
      throw new CaIssuedNotSavedError(
        `certificate ${issued.serialNumber} for ${issued.registrationId} is issued and in the ledger, but --out ${named(this.typed, this.file)} could not be written, so the PEM went to standard output instead. Keep it from there, or revoke it: ${revoke}`,
        (err as Error).message,
      );
    }
  }

  /** No certificate went in: closes the earlier file, which stays as it was. */
  async discard(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
  }
}
