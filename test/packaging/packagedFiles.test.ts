/**
 * The allow-list of the packaged app (scripts/packagedFiles.js) against the repository's real
 * files: what git tracks, what sits in the checkout untracked (logs, test artifacts, .git), the
 * build outputs and the native packages in node_modules. Packaging itself needs the Electron
 * binary, so this checks the rule Packager applies, the way Packager applies it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import forgeConfig from '../../forge.config.js';
import { isExcludedFromPackage } from '../../scripts/packagedFiles.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A real path as Packager names it: app-relative, forward slashes, leading '/'. */
const appPath = (absolute: string): string =>
  `/${relative(repoRoot, absolute).split(sep).join('/')}`;

/** Every file under `folder` (absolute), or none if it does not exist. */
function filesUnder(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => appPath(join(entry.parentPath, entry.name)));
}

/** The folders above `path`, nearest last: '/a/b/c' → ['/a', '/a/b']. */
function parentsOf(path: string): string[] {
  const parts = path.split('/').slice(1, -1);
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

/** Whether Packager copies `path`: neither it nor a folder above it is left out. */
const packaged = (path: string): boolean =>
  ![...parentsOf(path), path].some((p) => isExcludedFromPackage(p));

const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: repoRoot, encoding: 'utf8' })
  .split('\0')
  .filter(Boolean)
  .map((file) => `/${file}`);
/** What the checkout holds beside the tracked files: .git, logs, node_modules, builds, artifacts. */
const topLevel = readdirSync(repoRoot).map((name) => `/${name}`);

/** The build outputs, named as the builds write them (hashes vary), plus any on disk now. */
const built = [
  ...['main.js', 'coreEntry.js', 'preload.cjs'].flatMap((file) => [file, `${file}.map`]),
  'assets/coreProtocol-D_8YTBB9.js',
  'assets/coreProtocol-D_8YTBB9.js.map',
].map((file) => `/dist/electron/${file}`);
const builtUi = ['index.html', 'favicon.svg', 'assets/index-Bq3x9.js', 'assets/index-C4f1.css'].map(
  (file) => `/renderer/dist/${file}`,
);
const onDisk = [
  ...filesUnder(join(repoRoot, 'dist', 'electron')),
  ...filesUnder(join(repoRoot, 'renderer', 'dist')),
];

/** The native packages, in full: Forge rebuilds them from these sources inside the package. */
const nativePackages = [
  ...filesUnder(join(repoRoot, 'node_modules', 'better-sqlite3')),
  ...filesUnder(join(repoRoot, 'node_modules', '@serialport', 'bindings-cpp')),
];

describe('the packaged app holds only what it runs', () => {
  it('is the ignore rule forge.config.js gives Packager', () => {
    expect(forgeConfig.packagerConfig?.ignore).toBe(isExcludedFromPackage);
  });

  it('keeps package.json, the built shell and core, the built UI and node_modules', () => {
    const required = [
      '/package.json',
      ...built,
      ...builtUi,
      ...onDisk,
      '/node_modules/zod/package.json',
      '/node_modules/@peculiar/x509/package.json',
      '/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      '/node_modules/better-sqlite3/binding.gyp',
      '/node_modules/@serialport/bindings-cpp/binding.gyp',
      ...nativePackages.filter((path) => !/\.o(bj)?$/.test(path)),
    ];
    expect(nativePackages.length).toBeGreaterThan(20);
    expect(required.filter((path) => !packaged(path))).toEqual([]);
    expect(isExcludedFromPackage('')).toBe(false);
  });

  it('keeps every folder above a kept file, so Packager looks inside it', () => {
    const folders = new Set(
      ['/package.json', ...built, ...builtUi, ...nativePackages].flatMap(parentsOf),
    );
    expect([...folders].filter((folder) => isExcludedFromPackage(folder))).toEqual([]);
    expect(folders).toContain('/renderer');
  });

  it('leaves out every tracked file but package.json and the TPM vendor CAs: sources, tests, test certificates, docs, configs', () => {
    expect(tracked.length).toBeGreaterThan(100);
    expect(tracked).toContain('/electron/main.ts');
    const vendorCas = tracked.filter((path) => path.startsWith('/certs/trust/tpm-vendors/'));
    expect(vendorCas.length).toBeGreaterThan(40);
    const shipped = tracked.filter(packaged);
    expect(shipped).toEqual(['/package.json', ...vendorCas].sort());
    // Each one is refused itself, not only through its folder.
    const kept = tracked.filter((path) => !shipped.includes(path) && !isExcludedFromPackage(path));
    expect(kept).toEqual([]);
  });

  it('leaves out what lies in the checkout untracked (.git, logs, artifacts, out/)', () => {
    const shipped = [...topLevel, '/.git', '/out', '/test-artifacts', '/isolate-0x1-1-v8.log']
      .filter(packaged)
      .sort();
    const expected = ['/certs', '/dist', '/node_modules', '/package.json', '/renderer'];
    expect(shipped).toEqual(expected.filter((path) => topLevel.includes(path)));
    for (const stray of ['/dist/test-build', '/dist/index.js', '/renderer/node_modules/x.js']) {
      expect(packaged(stray)).toBe(false);
    }
  });

  it("leaves out the build leftovers Packager's default ignores would: .bin, object files", () => {
    const leftovers = [
      '/node_modules/.bin',
      '/node_modules/.bin/vite',
      '/node_modules/some/node_modules/.bin/tool',
      '/node_modules/better-sqlite3/build/Release/obj.target/better_sqlite3/src/better_sqlite3.o',
      '/node_modules/@serialport/bindings-cpp/build/node_gyp_bins/python3',
      ...nativePackages.filter((path) => /\.o(bj)?$/.test(path)),
    ];
    expect(leftovers.filter(packaged)).toEqual([]);
  });
});
