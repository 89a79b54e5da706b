import { createPrivateKey, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

/**
 * Reads a PKCS#12 (.p12/.pfx) file with node-forge, which handles both what OpenSSL 3 writes by
 * default (PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC, SHA-256 MAC) and the `-legacy` format
 * (pbeWithSHA1And3-KeyTripleDES-CBC keys, 40-bit RC2 certificates, SHA-1 MAC) that older PKIs
 * and Windows exports still produce. node:crypto has no PKCS#12 reader.
 *
 * forge parses RSA keys and RSA certificates into its own objects and leaves everything else as
 * ASN.1; both paths are turned back into DER here. A certificate forge re-encodes keeps its
 * TBSCertificate bytes, and any difference in the outer encoding would fail the signature check
 * that validateIssuingCa runs next, never pass silently.
 */
export interface Pkcs12Contents {
  privateKeys: KeyObject[];
  certificatesDer: Uint8Array[];
}

function derOf(asn1: forge.asn1.Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

/** The key as a KeyObject; the DER copy on the JS heap is zeroed (forge's strings cannot be). */
function keyFromDer(der: Buffer, type: 'pkcs1' | 'pkcs8'): KeyObject {
  try {
    return createPrivateKey({ key: der, format: 'der', type });
  } finally {
    der.fill(0);
  }
}

/** Throws (plain Error) on a wrong password, a damaged file or an unsupported bag. */
export function readPkcs12(file: Uint8Array, password: string): Pkcs12Contents {
  const asn1 = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(file).toString('binary')));
  // strict: refuses BER oddities; the MAC is verified before anything is decrypted.
  const p12 = forge.pkcs12.pkcs12FromAsn1(asn1, true, password);
  const privateKeys: KeyObject[] = [];
  const certificatesDer: Uint8Array[] = [];
  for (const contents of p12.safeContents) {
    for (const bag of contents.safeBags) {
      if (bag.type === forge.pki.oids.pkcs8ShroudedKeyBag || bag.type === forge.pki.oids.keyBag) {
        privateKeys.push(
          bag.key
            ? keyFromDer(derOf(forge.pki.privateKeyToAsn1(bag.key)), 'pkcs1')
            : keyFromDer(derOf(bag.asn1), 'pkcs8'),
        );
      } else if (bag.type === forge.pki.oids.certBag) {
        const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1;
        certificatesDer.push(new Uint8Array(derOf(asn1)));
      }
    }
  }
  return { privateKeys, certificatesDer };
}
