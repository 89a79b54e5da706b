import type { Migration } from './index.js';

/**
 * What a run checked of the device's identity (a TPM's EK is read and checked in validate), as
 * JSON: for a TPM, the endorsement key's SHA-256, the EK certificate's and the vendor CA chain it
 * was checked against, with any note the policy accepted (a vendor CA that expired after it
 * issued the certificate). An auditor asking "which TPM is in this device, and why did the
 * station trust it" reads it here. A refused TPM's run keeps what was learnt before the refusal
 * (its EK's SHA-256 at least). NULL: a mode with nothing to keep, or a run from before.
 *
 * Indexed by the EK's SHA-256: a TPM is soldered to one board, so every tpm run asks whether its
 * EK already passed on another device (a copied EK, or a TPM moved between boards).
 */
export const migration012AttestationEvidence: Migration = {
  version: 12,
  name: 'attestation_evidence',
  up(db) {
    db.exec(`
      ALTER TABLE runs ADD COLUMN attestation_evidence TEXT
        CHECK (attestation_evidence IS NULL OR json_valid(attestation_evidence));
      CREATE INDEX runs_by_endorsement_key
        ON runs (json_extract(attestation_evidence, '$.endorsement.ekSha256'))
        WHERE attestation_evidence IS NOT NULL;
    `);
  },
};
