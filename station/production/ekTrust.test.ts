import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTpmVendor } from '../../certs/testing/tpmVendorKit.js';
import { ekTrustText, loadEkTrust } from './ekTrust.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ls-ek-trust-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('the vendor CAs of a tpm line', () => {
  it("loads the station's own and the supervisor's, who may have added none", async () => {
    const shippedOnly = await loadEkTrust(dataDir);
    expect(shippedOnly.trust.size).toBeGreaterThan(40);
    // Some shipped intermediates wait for a root the station cannot ship; the log names them.
    const text = ekTrustText(shippedOnly);
    expect(text).toMatch(
      /^TPM vendor CAs: \d+ of \d+ certificate\(s\) chain to a root; \d+ wait for a root not on this station \(.*Nationz_TPM_EK\.pem.*\); from /,
    );
    expect(shippedOnly.folders[1]).toBe(join(dataDir, 'trust', 'tpm-vendors'));

    const vendor = await createTpmVendor({ name: 'TEST Added Maker' });
    await mkdir(shippedOnly.folders[1]!, { recursive: true });
    await writeFile(join(shippedOnly.folders[1]!, 'added-root.pem'), vendor.rootPem);
    const added = await loadEkTrust(dataDir);
    expect(added.trust.size).toBe(shippedOnly.trust.size + 1);
  });

  it('refuses to start when the shipped folder is missing from the installation', async () => {
    const emptyInstall = await mkdtemp(join(tmpdir(), 'ls-install-'));
    try {
      await expect(loadEkTrust(dataDir, emptyInstall)).rejects.toMatchObject({
        code: 'EK_TRUST_STORE_UNREADABLE',
        detail: expect.stringContaining('shipped with the station is missing') as unknown,
      });
    } finally {
      await rm(emptyInstall, { recursive: true, force: true });
    }
  });
});
