import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DpsEmulator, startDpsEmulator } from './dpsEmulator.js';
import {
  createCertificateAuthority,
  type IssuedCertificate,
  issueCertificate,
} from './emulatorTls.js';
import { call, registerDevice } from './emulatorTestKit.js';

/**
 * DPS trusts a device matched by its chain only when that chain reaches a CA uploaded and
 * verified there (dps-protocol.md §2.3): a CA merely pasted into an enrollment is not enough.
 * One emulator knows no verified CA; the other is given the self-made CA as verified.
 */
let unverified: DpsEmulator;
let verified: DpsEmulator;
let selfMade: IssuedCertificate;
let line: IssuedCertificate;

const client = (leaf: IssuedCertificate, ...chain: IssuedCertificate[]) => ({
  clientCert: { certPem: [leaf, ...chain].map((c) => c.certPem).join(''), keyPem: leaf.keyPem },
});

beforeAll(async () => {
  selfMade = await createCertificateAuthority('Self-made Root CA');
  line = await issueCertificate(selfMade, { commonName: 'Self-made Line CA', ca: true });
  unverified = await startDpsEmulator({ rateLimit: false });
  verified = await startDpsEmulator({ rateLimit: false, verifiedCas: [selfMade.certPem] });
});
afterAll(async () => {
  await unverified?.close();
  await verified?.close();
});

async function put(emulator: DpsEmulator, path: string, body: unknown): Promise<void> {
  const reply = await call(emulator, 'PUT', path, { body, headers: { 'if-match': '*' } });
  expect(reply.status).toBe(200);
}

const inlineGroup = (id: string, ca: IssuedCertificate) => ({
  enrollmentGroupId: id,
  attestation: {
    type: 'x509',
    x509: { signingCertificates: { primary: { certificate: ca.certPem } } },
  },
});

const individual = (registrationId: string, certificate: IssuedCertificate) => ({
  registrationId,
  attestation: {
    type: 'x509',
    x509: { clientCertificates: { primary: { certificate: certificate.certPem } } },
  },
});

function expectUnverifiedChain(reply: { status: number; headers: object; body: unknown }): void {
  expect(reply.status).toBe(401);
  expect(reply.headers).toMatchObject({ 'x-ms-error-code': '401002' });
  expect(reply.body).toMatchObject({
    errorCode: 401002,
    message: expect.stringContaining('does not reach a verified CA certificate'),
  });
}

describe('X.509 chains must reach a verified CA', () => {
  it('refuses a member of a group whose inline CA was never verified; assigns it once verified', async () => {
    await put(unverified, '/enrollmentGroups/self-made', inlineGroup('self-made', selfMade));
    const leaf = await issueCertificate(line, { commonName: 'dev-group-1' });
    const refused = await registerDevice(unverified, 'dev-group-1', client(leaf, line));
    expectUnverifiedChain(refused.register);
    expect(refused.final).toBeUndefined();

    await put(verified, '/enrollmentGroups/self-made', inlineGroup('self-made', selfMade));
    const result = await registerDevice(verified, 'dev-group-1', client(leaf, line));
    expect(result.register.status).toBe(202);
    expect(result.final?.status).toBe(200);
    expect(result.final?.body).toMatchObject({
      status: 'assigned',
      registrationState: { x509: { enrollmentGroupId: 'self-made' }, deviceId: 'dev-group-1' },
    });
  });

  it('refuses a group whose inline intermediate was never verified, even with the chain up to its root', async () => {
    const other = await createCertificateAuthority('Other Root CA');
    const otherLine = await issueCertificate(other, { commonName: 'Other Line CA', ca: true });
    await put(verified, '/enrollmentGroups/other-line', inlineGroup('other-line', otherLine));
    const leaf = await issueCertificate(otherLine, { commonName: 'dev-other-1' });
    const result = await registerDevice(verified, 'dev-other-1', client(leaf, otherLine, other));
    expectUnverifiedChain(result.register);
  });

  it('refuses an individual enrollment holding an unverified CA; assigns it once verified', async () => {
    const leaf = await issueCertificate(line, { commonName: 'dev-ind-ca' });
    await put(unverified, '/enrollments/dev-ind-ca', individual('dev-ind-ca', selfMade));
    const refused = await registerDevice(unverified, 'dev-ind-ca', client(leaf, line));
    expectUnverifiedChain(refused.register);

    await put(verified, '/enrollments/dev-ind-ca', individual('dev-ind-ca', selfMade));
    const result = await registerDevice(verified, 'dev-ind-ca', client(leaf, line));
    expect(result.final?.body).toMatchObject({
      status: 'assigned',
      registrationState: { x509: {}, deviceId: 'dev-ind-ca' },
    });
  });

  it('needs no verified CA for an individual enrollment holding the leaf itself, only for one holding its CA', async () => {
    const leaf = await issueCertificate(line, { commonName: 'dev-ind-leaf' });
    await put(unverified, '/enrollments/dev-ind-leaf', individual('dev-ind-leaf', leaf));
    const result = await registerDevice(unverified, 'dev-ind-leaf', client(leaf, line));
    expect(result.register.status).toBe(202);
    expect(result.final?.status).toBe(200);
    expect(result.final?.body).toMatchObject({
      status: 'assigned',
      registrationState: { x509: {}, registrationId: 'dev-ind-leaf', deviceId: 'dev-ind-leaf' },
    });
    // The leaf alone, without its chain, is enough too.
    const alone = await registerDevice(unverified, 'dev-ind-leaf', client(leaf));
    expect(alone.final?.body).toMatchObject({ status: 'assigned' });

    // The same device enrolled through the CA that issued it is a chain match: refused.
    await put(unverified, '/enrollments/dev-ind-leaf', individual('dev-ind-leaf', line));
    const byCa = await registerDevice(unverified, 'dev-ind-leaf', client(leaf, line));
    expectUnverifiedChain(byCa.register);
  });
});
