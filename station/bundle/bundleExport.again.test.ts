/**
 * Export over time: each bundle carries only rows no other bundle still carries (a second stick
 * never doubles the work), a lost bundle's rows go again only when asked, and a bundle whose file
 * could not be written is taken back. The first-export rules are in bundleExport.test.ts, history
 * of re-provisioned devices in bundleExport.history.test.ts.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { BundleError } from './bundleErrors.js';
import { exportBundle, type ExportRequest } from './bundleExport.js';
import { writeDurably } from './bundleFiles.js';
import { exportRequest, openBundle } from './testing/exportTestKit.js';

// The disk is the one part these tests cannot fill on demand: the next write may be made to fail.
const disk = vi.hoisted(() => ({ failNextWrite: false }));
vi.mock('./bundleFiles.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./bundleFiles.js')>();
  return {
    ...actual,
    writeDurably: (...args: Parameters<typeof actual.writeDurably>) => {
      if (disk.failNextWrite) {
        disk.failNextWrite = false;
        throw new BundleError('BUNDLE_WRITE_FAILED', 'no space left on the stick');
      }
      actual.writeDurably(...args);
    },
  };
});

let station: SyncTestStation;
let exports = 0;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

// A new file for each export: several bundles go out in one test, on the real clock.
function request(overrides: Partial<ExportRequest> = {}): ExportRequest {
  return exportRequest(station, join(station.dir, `outbox-${++exports}.bundle`), overrides);
}

async function carriedIds(file: string): Promise<number[]> {
  return (await openBundle(file)).enrollments.map((e) => e.id);
}

describe('exportBundle over time', () => {
  it('carries only rows no other bundle still carries; a lost bundle goes again on request', async () => {
    const a = station.provision('A1');
    const first = request();
    await exportBundle(first);
    const b = station.provision('B1');
    const second = request();
    expect(await exportBundle(second)).toMatchObject({ enrollments: 1, left: 0 });
    expect(await carriedIds(second.file)).toEqual([b]);

    await expect(exportBundle(request())).rejects.toMatchObject({ code: 'BUNDLE_ALL_CARRIED' });
    const again = request({ includeCarried: true });
    expect(await exportBundle(again)).toMatchObject({ enrollments: 2 });
    expect(await carriedIds(again.file)).toEqual([a, b]);
  });

  it('carries a row again once a receipt failed it and a supervisor requeued it', async () => {
    const a = station.provision('A1');
    const { bundleId } = await exportBundle(request());
    // As bundleReceive leaves it after a final answer, then `queue requeue` puts it back.
    station.db
      .prepare(`UPDATE bundle_enrollments SET answer_applied = 'failed' WHERE bundle_id = ?`)
      .run(bundleId);
    const next = request();
    await exportBundle(next);
    expect(await carriedIds(next.file)).toEqual([a]);
  });

  it('takes the bundle back when its file cannot be written, so its rows can go in the next', async () => {
    const a = station.provision('A1');
    disk.failNextWrite = true;
    const failed = request();
    await expect(exportBundle(failed)).rejects.toMatchObject({ code: 'BUNDLE_WRITE_FAILED' });
    expect(() => readFileSync(failed.file)).toThrow(/ENOENT/);
    expect(station.db.prepare('SELECT count(*) FROM bundles').pluck().get()).toBe(0);
    expect(station.db.prepare('SELECT count(*) FROM bundle_enrollments').pluck().get()).toBe(0);
    const kinds = station.db.prepare('SELECT kind FROM audit_events ORDER BY id').pluck().all();
    expect(kinds.slice(-2)).toEqual(['outbox.bundle-exported', 'outbox.bundle-withdrawn']);

    const next = request();
    await exportBundle(next);
    expect(await carriedIds(next.file)).toEqual([a]);
  });
});

describe('exportBundle: a bundle recorded but never written', () => {
  it('carries nothing: its rows go in the next bundle', async () => {
    const a = station.provision('A1');
    const { bundleId } = await exportBundle(request());
    // As a crash between the write and its mark leaves it.
    station.db.prepare('UPDATE bundles SET written_at = NULL WHERE id = ?').run(bundleId);
    const next = request();
    await exportBundle(next);
    expect(await carriedIds(next.file)).toEqual([a]);
  });

  it('stays recorded, unwritten, when it cannot be taken back; its rows still go next', async () => {
    const a = station.provision('A1');
    // The database refuses the withdrawal (a live station holding the write lock, say).
    station.db.exec(
      `CREATE TRIGGER hold_bundles BEFORE DELETE ON bundles BEGIN SELECT RAISE(ABORT, 'busy'); END`,
    );
    disk.failNextWrite = true;
    await expect(exportBundle(request())).rejects.toMatchObject({ code: 'BUNDLE_WRITE_FAILED' });
    expect(station.db.prepare('SELECT written_at FROM bundles').pluck().all()).toEqual([null]);
    station.db.exec('DROP TRIGGER hold_bundles');
    const next = request();
    await exportBundle(next);
    expect(await carriedIds(next.file)).toEqual([a]);
  });
});

describe('writeDurably', () => {
  it('reports a file that does not read back as written (a full or failing stick)', () => {
    const path = join(station.dir, 'target');
    const other = join(station.dir, 'other');
    const fd = openSync(other, 'w');
    try {
      // Bytes that went elsewhere than the path: what a cut-short file looks like on read-back.
      closeSync(openSync(path, 'w'));
      expect(() => writeDurably(fd, path, 'a bundle', 'BUNDLE_WRITE_FAILED')).toThrow(
        expect.objectContaining({ code: 'BUNDLE_WRITE_FAILED' }),
      );
    } finally {
      closeSync(fd);
    }
  });

  it('reports a device that takes no more bytes', () => {
    const fd = openSync('/dev/full', 'w');
    try {
      expect(() =>
        writeDurably(fd, '/dev/full', 'a receipt', 'BUNDLE_RECEIPT_WRITE_FAILED'),
      ).toThrow(/ENOSPC/);
    } finally {
      closeSync(fd);
    }
  });
});
