import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { typedPath } from './typedPath.js';

describe('typedPath', () => {
  const npm = { npm_lifecycle_event: 'simulate', INIT_CWD: '/home/sv/trial' };

  it('reads a relative path from the folder `npm run` was typed in', () => {
    expect(typedPath('tpms', 'simulate', npm)).toBe('/home/sv/trial/tpms');
    expect(typedPath('../other/tpms', 'simulate', npm)).toBe('/home/sv/other/tpms');
    expect(typedPath('/srv/tpms', 'simulate', npm)).toBe('/srv/tpms');
  });

  it('keeps the working directory when not run as that npm script', () => {
    expect(typedPath('tpms', 'simulate', {})).toBe(resolve('tpms'));
    // A child of `npm test` inherits INIT_CWD; its folder is the one it was started in.
    expect(typedPath('tpms', 'simulate', { ...npm, npm_lifecycle_event: 'test' })).toBe(
      resolve('tpms'),
    );
    expect(typedPath('tpms', 'simulate', { ...npm, INIT_CWD: 'relative' })).toBe(resolve('tpms'));
  });
});
