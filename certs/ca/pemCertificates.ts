/**
 * PEM bundles of certificates (RFC 7468), as PKIs hand them out: one or more CERTIFICATE blocks,
 * possibly with text between them (`openssl x509 -text` output, Bag Attributes from
 * `openssl pkcs12`). Other block types are skipped: a private key is never read from here.
 */

const BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The DER of every CERTIFICATE block, in order. Throws if a block's body is not base64. */
export function certificatesFromPem(pem: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const match of pem.matchAll(BLOCK)) {
    const body = (match[1] ?? '').replace(/\s+/g, '');
    if (!BASE64.test(body) || body.length === 0) {
      throw new Error(`certificate block ${out.length + 1} is not valid base64`);
    }
    out.push(new Uint8Array(Buffer.from(body, 'base64')));
  }
  return out;
}

/** One CERTIFICATE block, 64 characters a line, ending in a newline. */
export function certificateToPem(der: Uint8Array): string {
  const body = Buffer.from(der).toString('base64');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
