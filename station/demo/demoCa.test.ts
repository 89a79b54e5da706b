import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDemoCa } from './demoCa.js';

describe('createDemoCa', () => {
  let ownTmp: string;
  let savedTmpdir: string | undefined;

  beforeEach(async () => {
    // os.tmpdir() reads TMPDIR at each call: an empty folder of this test's own shows what the
    // DEMO CA leaves behind.
    ownTmp = await mkdtemp(join(tmpdir(), 'ls-demo-ca-test-'));
    savedTmpdir = process.env.TMPDIR;
    process.env.TMPDIR = ownTmp;
  });

  afterEach(async () => {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    await rm(ownTmp, { recursive: true, force: true });
  });

  it('leaves no folder behind, even before it is disposed, and issues from memory', async () => {
    const demo = await createDemoCa('Line Station DEMO TEST');
    try {
      expect(await readdir(ownTmp)).toEqual([]);
      const issued = await demo.ca.issueWithStationKey({ registrationId: 'demo-ca-test-1' });
      issued.privateKeyPkcs8.fill(0);
      expect(issued.chainDer).toHaveLength(2);
      expect(demo.ca.status().locked).toBe(false);
    } finally {
      await demo.dispose();
    }
    expect(demo.ca.status().locked).toBe(true);
  });
});
