import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKeyAndCsrDer } from './deviceCsr.js';

describe("the simulated secure element's CSR", () => {
  it.each(['P-256', 'P-384'] as const)(
    'on %s is a PKCS#10 request openssl verifies, for the key it returns',
    (curve) => {
      const { pkcs8, csr } = generateKeyAndCsrDer(curve, 'ls-demo-1-sim000001');
      const dir = mkdtempSync(join(tmpdir(), 'ls-devcsr-'));
      const file = join(dir, 'csr.der');
      writeFileSync(file, csr);
      const out = execFileSync(
        'openssl',
        ['req', '-inform', 'DER', '-in', file, '-verify', '-noout', '-subject', '-pubkey'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      expect(out).toMatch(/subject=CN\s?=\s?ls-demo-1-sim000001/);
      // The request carries the public half of the returned private key.
      const privateKey = createPrivateKey({
        key: Buffer.from(pkcs8),
        format: 'der',
        type: 'pkcs8',
      });
      const expected = createPublicKey(privateKey)
        .export({ type: 'spki', format: 'pem' })
        .toString();
      const printed = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/.exec(out)?.[0];
      expect(printed).toBe(expected.trim());
      expect(privateKey.asymmetricKeyDetails?.namedCurve).toBe(
        curve === 'P-256' ? 'prime256v1' : 'secp384r1',
      );
    },
  );
});
