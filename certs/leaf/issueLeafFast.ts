import type { CaSigner } from '../caSigner.js';
import type { LeafTemplate, LeafRequest } from './leafTemplate.js';

/** A leaf as issued: the certificate and what the issuance ledger records about it. */
export interface IssuedLeaf {
  certificateDer: Buffer;
  /** Serial number magnitude bytes (16 from newSerialNumber). */
  serialNumber: Uint8Array;
  notBefore: Date;
  notAfter: Date;
}

/**
 * Signers already checked against a template's issuing CA. Checking once per pair keeps the
 * per-leaf path free of the SPKI comparison while still refusing a signer holding another key.
 */
const checked = new WeakMap<LeafTemplate, WeakSet<CaSigner>>();

function assertSignerFits(template: LeafTemplate, signer: CaSigner): void {
  let signers = checked.get(template);
  if (signers?.has(signer)) return;
  if (signer.algorithm !== template.algorithm) {
    throw new Error(
      `signer uses ${signer.algorithm}; the template was built for ${template.algorithm}`,
    );
  }
  if (!Buffer.from(signer.publicKeySpki).equals(Buffer.from(template.issuer.spki))) {
    // A certificate signed with another key would name this CA as issuer and never verify.
    throw new Error('the signer does not hold the issuing CA key of this template');
  }
  if (!signers) checked.set(template, (signers = new WeakSet()));
  signers.add(signer);
}

/**
 * Issues one leaf: encodes its TBSCertificate from the template, has the CA signer sign it and
 * wraps the signature. The request must come from a CSR that `checkCsr` accepted (or a key the
 * station made itself); this function trusts the SPKI and registration ID it is given, apart
 * from re-checking the ID against the DPS rules.
 */
export async function issueLeafFast(
  template: LeafTemplate,
  signer: CaSigner,
  req: LeafRequest,
): Promise<IssuedLeaf> {
  assertSignerFits(template, signer);
  const { tbs, serialNumber, validity } = template.buildTbs(req);
  const signature = await signer.sign(tbs);
  return {
    certificateDer: template.assembleCertificate(tbs, signature),
    serialNumber,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
  };
}
