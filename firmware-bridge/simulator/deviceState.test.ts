import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import {
  IDENTITY,
  isRefused,
  makeTestCa,
  makeTestDevice,
  trackedTestDevices,
  verifyEcdsa,
  type TestDevice,
} from './testKit.js';

const device = trackedTestDevices();

const commitId = (fill: number): Uint8Array => new Uint8Array(16).fill(fill);

/** Stages config, a generated key and its certificate; returns the CSR. */
async function stageIdentity(d: TestDevice): Promise<x509.Pkcs10CertificateRequest> {
  await d.call('SET_CONFIG', {
    globalEndpoint: 'dps.example',
    idScope: '0ne001',
    registrationId: 'dev-1',
  });
  const res = await d.call('GEN_KEY_CSR', { curve: 'P-256', commonName: 'dev-1' });
  if (isRefused(res)) throw new Error(res.refused);
  const csr = new x509.Pkcs10CertificateRequest(res.csr);
  const ca = await makeTestCa();
  expect(
    await d.call('PUT_CERT_CHAIN', { chain: [await ca.issue(csr.publicKey, 'dev-1')] }),
  ).toEqual({});
  return csr;
}

describe('COMMIT', () => {
  it('answers NOTHING_STAGED with nothing staged and an unknown commit id', async () => {
    const d = await device();
    expect(await d.call('COMMIT', { commitId: commitId(1) })).toMatchObject({
      refused: 'NOTHING_STAGED',
    });
  });

  it('is idempotent by commit id: a repeat succeeds without writing, another id does not', async () => {
    const d = await device();
    await stageIdentity(d);
    const first = await d.firmware.execute(0x20, encodeCommit(commitId(7)));
    expect(first).toMatchObject({ status: 'ok', work: { committedBytes: expect.any(Number) } });
    expect(d.state.hasStaged).toBe(false);
    expect(d.state.identityState).toBe(1);
    const fileAfterFirst = await readFile(d.state.file, 'utf8');

    const repeat = await d.firmware.execute(0x20, encodeCommit(commitId(7)));
    expect(repeat).toMatchObject({ status: 'ok', work: { committedBytes: 0 } });
    expect(await readFile(d.state.file, 'utf8')).toBe(fileAfterFirst);
    expect(await d.call('COMMIT', { commitId: commitId(7) })).toEqual({ commitId: commitId(7) });
    expect(await d.call('COMMIT', { commitId: commitId(8) })).toMatchObject({
      refused: 'NOTHING_STAGED',
    });
  });

  it('answers STORAGE and keeps the old committed bank when the flash write fails', async () => {
    const d = await device();
    await d.call('SET_CONFIG', { idScope: 'old' });
    await d.call('COMMIT', { commitId: commitId(1) });
    await d.call('SET_CONFIG', { idScope: 'new' });
    await rm(d.dir, { recursive: true, force: true });
    expect(await d.call('COMMIT', { commitId: commitId(2) })).toMatchObject({ refused: 'STORAGE' });
    expect(d.state.committed.config.idScope).toBe('old');
    expect(d.state.staged.config.idScope).toBe('new');
  });
});

describe('reboot', () => {
  it('drops the staged bank and keeps the committed one', async () => {
    const d = await device();
    await d.call('SET_CONFIG', { idScope: 'committed' });
    await d.call('COMMIT', { commitId: commitId(1) });
    await stageIdentity(d);
    d.state.reboot();
    expect(d.state.hasStaged).toBe(false);
    expect(await d.call('GET_CONFIG', { bank: 1 })).toEqual({ idScope: 'committed' });
    const sign = await d.call('SIGN_CHALLENGE', { nonce: new Uint8Array(16), bank: 1, kind: 1 });
    expect(sign).toMatchObject({ refused: 'BAD_STATE' });
    expect(await d.call('COMMIT', { commitId: commitId(2) })).toMatchObject({
      refused: 'NOTHING_STAGED',
    });
  });
});

describe('persistence', () => {
  it('restores identity and committed bank from the flash file, not RAM', async () => {
    const d = await device();
    const csr = await stageIdentity(d);
    await d.call('COMMIT', { commitId: commitId(3) });
    await d.call('SET_CONFIG', { idScope: 'staged-only' });

    // Same stateDir, different manufacture parameters: the file wins, staged state is gone.
    const again = await makeTestDevice({}, d.dir);
    expect(again.state.identity).toEqual(IDENTITY);
    expect(again.state.hasStaged).toBe(false);
    expect(await again.call('GET_CONFIG', { bank: 0 })).toEqual({
      globalEndpoint: 'dps.example',
      idScope: '0ne001',
      registrationId: 'dev-1',
    });
    expect(await again.call('INFO', { hostMaxFrame: 256 })).toMatchObject({ identityState: 1 });
    const nonce = new Uint8Array(randomBytes(20));
    const res = await again.call('SIGN_CHALLENGE', { nonce, bank: 0, kind: 1 });
    if (isRefused(res)) throw new Error(res.refused);
    const signed = Buffer.concat([Buffer.from('LSCHAL1\0', 'latin1'), nonce]);
    expect(verifyEcdsa(csr.publicKey.rawData, signed, res.signature, 'sha256')).toBe(true);
    // The repeat-commit id survives too.
    expect(await again.call('COMMIT', { commitId: commitId(3) })).toEqual({
      commitId: commitId(3),
    });
  });
});

describe('FACTORY_RESET', () => {
  it('refuses any confirm word but "ERASE"', async () => {
    const d = await device();
    expect(await d.call('FACTORY_RESET', { confirm: 'erase' })).toMatchObject({
      refused: 'INVALID_ARGUMENT',
    });
  });

  it('erases both banks and the last commit id, keeps the identity fields', async () => {
    const d = await device();
    await stageIdentity(d);
    await d.call('COMMIT', { commitId: commitId(4) });
    await d.call('SET_CONFIG', { idScope: 'staged' });
    expect(await d.call('FACTORY_RESET', { confirm: 'ERASE' })).toEqual({});
    expect(d.state.view()).toMatchObject({
      identity: IDENTITY,
      committed: { config: {} },
      staged: { config: {} },
      identityState: 0,
    });
    expect(d.state.committed.lastCommitId).toBeUndefined();
    expect(await d.call('COMMIT', { commitId: commitId(4) })).toMatchObject({
      refused: 'NOTHING_STAGED',
    });
    const reloaded = await makeTestDevice({}, d.dir);
    expect(reloaded.state.committed).toEqual({ config: {} });
  });
});

function encodeCommit(id: Uint8Array): Uint8Array {
  return new Uint8Array([0xa1, 0x01, 0x50, ...id]);
}
