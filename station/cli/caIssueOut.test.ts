import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IssueOutFile } from './caIssueOut.js';

let folder: string;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'issue-out-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(folder, { recursive: true, force: true });
});

const issued = { serialNumber: '0a1b', registrationId: 'dev-1' };

describe('ca issue --out, a new file', () => {
  // Made at the check, it stayed behind empty when the command was killed at the passphrase
  // prompt, and the next `--out` of that name was refused as a file there already.
  it('is made only when the certificate is written into it', async () => {
    const file = join(folder, 'dev-1.pem');
    const out = await IssueOutFile.open(file, false);
    expect(existsSync(file)).toBe(false);
    await out.write('-----BEGIN CERTIFICATE-----\n', issued, folder);
    expect(readFileSync(file, 'utf8')).toBe('-----BEGIN CERTIFICATE-----\n');
  });

  it('leaves nothing behind when no certificate comes', async () => {
    const file = join(folder, 'dev-1.pem');
    await (await IssueOutFile.open(file, false)).discard();
    expect(existsSync(file)).toBe(false);
  });

  it('never overwrites a file made there after the check: the PEM goes to standard output', async () => {
    const file = join(folder, 'dev-1.pem');
    const out = await IssueOutFile.open(file, false);
    writeFileSync(file, 'somebody else’s file\n');
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((text) => {
      printed.push(String(text));
      return true;
    });
    await expect(out.write('PEM\n', issued, folder)).rejects.toMatchObject({
      code: 'CA_ISSUED_NOT_SAVED',
    });
    expect(printed.join('')).toBe('PEM\n');
    expect(readFileSync(file, 'utf8')).toBe('somebody else’s file\n');
  });

  it('refuses a folder that is a file, before anything is issued', async () => {
    const notAFolder = join(folder, 'plain');
    writeFileSync(notAFolder, '');
    await expect(IssueOutFile.open(join(notAFolder, 'dev-1.pem'), false)).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: expect.stringMatching(/cannot be written there \(E[A-Z]+\)/) as string,
    });
  });

  it('refuses a link whose target is gone before anything is issued, as a name in use', async () => {
    const link = join(folder, 'dev-1.pem');
    symlinkSync(join(folder, 'gone.pem'), link);
    await expect(IssueOutFile.open(link, false)).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: expect.stringMatching(/a file of that name is there already/) as string,
    });
    await expect(IssueOutFile.open(link, true)).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: expect.stringMatching(/cannot be written there \(ENOENT\)/) as string,
    });
  });
});
