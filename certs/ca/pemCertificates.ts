/**
 * PEM bundles of certificates (RFC 7468), as PKIs hand them out: one or more CERTIFICATE blocks,
 * possibly with text between them (`openssl x509 -text` output, Bag Attributes from
 * `openssl pkcs12`). Other block types are skipped: a private key is never read from here.
 */

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The DER of every CERTIFICATE block, in order. Throws, saying which block and where, when a
 * block is damaged: no END line (the file cut short), a character that is not base64, or base64
 * that does not decode. A damaged block is never skipped: it would read as "no certificate" and
 * send the supervisor after the wrong mistake.
 */
export function certificatesFromPem(pem: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = pem.indexOf(BEGIN); at >= 0;) {
    const block = out.length + 1;
    const bodyStart = at + BEGIN.length;
    const end = pem.indexOf(END, bodyStart);
    const next = pem.indexOf(BEGIN, bodyStart);
    if (end < 0 || (next >= 0 && next < end)) {
      throw new Error(
        `certificate block ${block} has no ${END} line (the file may have been cut short)`,
      );
    }
    const raw = pem.slice(bodyStart, end);
    const stray = /[^A-Za-z0-9+/=\s]/.exec(raw);
    if (stray) {
      const line = pem.slice(0, bodyStart + stray.index).split('\n').length;
      throw new Error(
        `certificate block ${block} holds ${JSON.stringify(stray[0])} on line ${line}, which is not base64`,
      );
    }
    const body = raw.replace(/\s+/g, '');
    if (!BASE64.test(body) || body.length === 0) {
      throw new Error(`certificate block ${block} is not valid base64`);
    }
    out.push(new Uint8Array(Buffer.from(body, 'base64')));
    at = pem.indexOf(BEGIN, end + END.length);
  }
  return out;
}

/** One CERTIFICATE block, 64 characters a line, ending in a newline. */
export function certificateToPem(der: Uint8Array): string {
  const body = Buffer.from(der).toString('base64');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
