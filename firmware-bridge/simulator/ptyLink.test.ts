import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openPtyPair, socatOnPath, type PtyPair } from './ptyPair.js';
import { PtyLink } from './ptyLink.js';

const pairs: PtyPair[] = [];
const links: PtyLink[] = [];
afterEach(async () => {
  await Promise.all(pairs.splice(0).map((p) => p.close()));
  await Promise.all(links.splice(0).map((l) => l.dispose()));
});

describe.runIf(process.platform === 'linux' && socatOnPath())('PtyLink', () => {
  it('an unplugged tty leaves /dev, and no pty made before dispose() gets its path', async () => {
    const link = new PtyLink(115_200);
    links.push(link);
    const hostPath = await link.plug();
    await link.unplug();
    expect(existsSync(hostPath)).toBe(false);
    // The kernel hands out the lowest free number: without the link holding it, the next pty
    // would be made at the unplugged one's path.
    for (let i = 0; i < 3; i++) pairs.push(await openPtyPair());
    expect(pairs.flatMap((p) => [p.hostPath, p.devicePath])).not.toContain(hostPath);
  });
});
