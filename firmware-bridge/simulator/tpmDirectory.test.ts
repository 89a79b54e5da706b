import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { arbitraryBytes } from './testKit.js';
import { tpmFromDirectory } from './tpmDirectory.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tpmDir(files: Record<string, Uint8Array>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sim-tpm-dir-'));
  dirs.push(dir);
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, name), bytes);
  return dir;
}

describe('tpmFromDirectory', () => {
  it('reads S.ekpub and S.ekcert of the device with serial number S, byte for byte', async () => {
    const ekPublic = arbitraryBytes(314, 1);
    const ekCertificate = arbitraryBytes(1300, 2);
    const dir = await tpmDir({
      'SIM000001.ekpub': ekPublic,
      'SIM000001.ekcert': ekCertificate,
      'SIM000002.ekpub': arbitraryBytes(280, 3),
    });
    const tpm = tpmFromDirectory(dir);
    expect(await tpm({ index: 0, serialNumber: 'SIM000001' })).toEqual({ ekPublic, ekCertificate });
  });

  it('gives a device without S.ekcert a TPM that holds no certificate', async () => {
    const ekPublic = arbitraryBytes(280, 3);
    const dir = await tpmDir({ 'SIM000002.ekpub': ekPublic });
    const contents = await tpmFromDirectory(dir)({ index: 1, serialNumber: 'SIM000002' });
    expect(contents).toEqual({ ekPublic });
    expect(Object.keys(contents!)).toEqual(['ekPublic']);
  });

  it('fails naming the missing .ekpub, even when the .ekcert is there', async () => {
    const dir = await tpmDir({ 'SIM000003.ekcert': arbitraryBytes(900) });
    await expect(tpmFromDirectory(dir)({ index: 2, serialNumber: 'SIM000003' })).rejects.toThrow(
      `${join(dir, 'SIM000003.ekpub')} not found`,
    );
  });

  it('names the file it cannot read for any other reason', async () => {
    const dir = await tpmDir({});
    await mkdir(join(dir, 'SIM000001.ekpub'));
    await expect(tpmFromDirectory(dir)({ index: 0, serialNumber: 'SIM000001' })).rejects.toThrow(
      `${join(dir, 'SIM000001.ekpub')}: cannot read (EISDIR)`,
    );
  });
});
