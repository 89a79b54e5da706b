/**
 * The build scripts run before `npm start` end in one coded sentence, never a stack from tsx:
 * a read-only install folder, a full disk and anything else are told apart.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildFailure, runBuild } from './buildFailure.js';

const fsError = (code: string, path: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: failed, open '${path}'`), { code, path });

afterEach(() => vi.restoreAllMocks());

describe('a build that fails before the station starts', () => {
  it('names a folder this user may not write (read-only install, wrong owner)', () => {
    for (const code of ['EACCES', 'EPERM', 'EROFS']) {
      const failure = buildFailure(
        'station',
        '/opt/ls/dist/station',
        fsError(code, '/opt/ls/dist'),
      );
      expect(failure.code).toBe('BUILD_FOLDER_NOT_WRITABLE');
      expect(failure.text).toContain(`may not write /opt/ls/dist (${code})`);
    }
  });

  it('names a full disk', () => {
    const failure = buildFailure('station UI', '/r/dist', fsError('ENOSPC', '/r/.vite/x.js'));
    expect(failure).toEqual({
      code: 'BUILD_DISK_FULL',
      text: 'cannot build the station UI into /r/dist: the disk is full (ENOSPC writing /r/.vite/x.js); free some space and start again',
    });
  });

  it('names any other cause by the first line of its error', () => {
    const failure = buildFailure(
      'desktop shell',
      '/r/dist/electron',
      new Error('[vite] oops\n  at x'),
    );
    expect(failure.code).toBe('BUILD_FAILED');
    expect(failure.text).toBe(
      'building the desktop shell into /r/dist/electron failed: [vite] oops',
    );
  });

  it('prints one coded line and exits 1 instead of throwing', async () => {
    const printed: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void printed.push(line));
    const report = vi.fn();
    const code = await runBuild(
      'station',
      'station',
      '/r/dist/station',
      () => Promise.reject(fsError('EROFS', '/r/dist/station.next-1')),
      report,
    );
    expect(code).toBe(1);
    expect(report).not.toHaveBeenCalled();
    expect(printed).toEqual([
      expect.stringMatching(
        /^station: cannot build the station into \/r\/dist\/station: .* \[BUILD_FOLDER_NOT_WRITABLE\]$/,
      ),
    ]);
  });

  it('reports a build that worked and exits 0', async () => {
    const report = vi.fn();
    expect(await runBuild('renderer', 'station UI', '/r', async () => true, report)).toBe(0);
    expect(report).toHaveBeenCalledWith(true);
  });
});
