/**
 * Errors of outbox bundles (station/bundle/), with the text a supervisor reads. Codes never change
 * meaning; new cases get new codes. No detail ever holds a passphrase or a key.
 */
export const bundleErrorText = {
  BUNDLE_WRONG_PASSPHRASE:
    'The bundle passphrase is wrong. Use the passphrase typed when the bundle was exported.',
  BUNDLE_CORRUPT:
    'The file is damaged or was changed after it was written, so nothing in it is used. Copy it again from the station that wrote it, or export a new bundle.',
  BUNDLE_NEWER_VERSION:
    'This bundle was written by a newer Line Station than the one on this machine, so nothing in it is used. Update the station here, then sync the bundle again.',
  BUNDLE_WRONG_KIND:
    'This file is not the kind this command reads: `bundle sync` takes an exported bundle, `bundle receive` takes the receipt that `bundle sync` wrote.',
  BUNDLE_TOO_LARGE:
    'The file is larger than any bundle the station writes, so it is not read. Check that the right file was given.',
  BUNDLE_NOTHING_PENDING:
    'No enrollment is pending in the outbox and none is due to be disabled in DPS, so no bundle was written.',
  BUNDLE_UNKNOWN:
    'This receipt is for a bundle this station did not export (another station, or another data folder). Receive it on the station that exported the bundle.',
  BUNDLE_FILE_EXISTS:
    'A file of that name is there already, and it may be a bundle or receipt not yet carried. Choose another name, or move that file first.',
  BUNDLE_WRITE_FAILED:
    'The file could not be written (full, read-only or missing drive). No bundle was recorded; check the drive and export again.',
  BUNDLE_RECEIPT_TARGET_UNUSABLE:
    'The receipt could not be written where it would go (a folder, or a folder that is missing or read-only), so nothing was sent to DPS. Give --receipt a file in a folder this machine can write to.',
  BUNDLE_RECEIPT_WRITE_FAILED:
    'The receipt could not be written (full, read-only or missing drive). What DPS answered is kept on this machine: free the drive or use another, and run `bundle sync` again to write it.',
  BUNDLE_ALL_CARRIED:
    'Every pending enrollment is in a bundle that no receipt has settled yet (none came back, or DPS gave no answer for them), so no new bundle was written. Sync that bundle again and receive its receipt (`bundle list` names it); if that bundle is lost, declare it so (`bundle lost ID --by NAME`) and export again.',
  BUNDLE_ID_UNKNOWN:
    'This station exported no bundle of that ID (another station, or another data folder). `bundle list` shows the bundles this station exported.',
  BUNDLE_NOT_WRITTEN:
    'The export of that bundle stopped before its file was written: it carries nothing and holds nothing back, so there is nothing to declare lost.',
  BUNDLE_SYNC_BUSY:
    'This bundle is being synced to this DPS by another process using the same data folder, so this one wrote no receipt. Wait for that one to finish and carry its receipt.',
  BUNDLE_NOT_A_BUNDLE:
    'This file is not a Line Station bundle or receipt at all. Check the file name: a bundle ends in .bundle, its receipt in .receipt.',
  BUNDLE_READ_FAILED: 'The file cannot be read. Check the path and the drive.',
  BUNDLE_SECRET_LOCKED:
    'A symmetric key in the outbox cannot be opened with the CA passphrase, so no bundle was written. Check the CA passphrase.',
  BUNDLE_OUTBOX_CHANGED:
    'A supervisor revoked the certificate of an enrollment while the bundle was being written, so no bundle was written: the revoked one must not go to DPS. Export again.',
  BUNDLE_OTHER_DPS:
    "This receipt names another DPS than the first receipt with DPS's answers this station applied for the bundle, so nothing in it was applied. Bring the receipt of the bundle's sync to that first DPS; if the first receipt was the wrong one, that is a supervisor's matter: the rows it settled are in `queue list`.",
  BUNDLE_WORK_MISMATCH:
    'This machine already holds a different bundle under the same name in its bundle folder. Call engineering; do not delete anything.',
} as const;

export type BundleErrorCode = keyof typeof bundleErrorText;

/**
 * BUNDLE_OTHER_DPS as the supervisor reads it: the hosts named, and the first one to sync to.
 * The hosts come from this station's own record and the opened (authenticated) receipt.
 */
export function otherDpsText(firstHost: string, receiptHost: string): string {
  return (
    `This receipt is of a sync to DPS ${receiptHost}, but the first receipt with DPS's answers this station applied for the bundle came from DPS ${firstHost}, so nothing in it was applied. ` +
    `Bring the receipt of the bundle's sync to ${firstHost}. If that first receipt was the wrong one (an emulator or a staging DPS), that is a supervisor's matter: the rows it settled are in \`queue list\`.`
  );
}

/** An error of a bundle command: `{ code, message, detail }` like every error leaving the core. */
export class BundleError extends Error {
  constructor(
    readonly code: BundleErrorCode,
    readonly detail?: string,
    /** `message`: the code's text with this case's particulars (otherDpsText), else the table's. */
    { message, ...options }: { cause?: unknown; message?: string } = {},
  ) {
    super(message ?? bundleErrorText[code], options);
    this.name = 'BundleError';
  }

  toJSON(): { code: BundleErrorCode; message: string; detail?: string } {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}
