/**
 * What the packaged desktop app holds: an allow-list for Electron Packager's `ignore`
 * (forge.config.js). Plain JavaScript because Forge loads its config with plain Node, no
 * TypeScript loader.
 *
 * The app runs only built files: the shell and the core (dist/electron, where `package.json`
 * "main" points; station/ and the libraries are bundled into it), the built UI (renderer/dist,
 * which main serves from `app.getAppPath()`), the TPM vendor CA certificates a tpm line checks
 * EK certificates against (certs/trust/tpm-vendors, read from the app folder) and the npm
 * packages the bundle leaves external (node_modules, which Packager prunes of
 * devDependencies). Sources, tests, test certificates, docs and dev configuration stay out, so
 * nothing the app does not use ships with it.
 */

/** Files kept at the top of the app. */
const KEPT_FILES = ['/package.json'];

/** Folders kept whole (apart from the build leftovers below). */
const KEPT_FOLDERS = [
  '/dist/electron',
  '/renderer/dist',
  '/certs/trust/tpm-vendors',
  '/node_modules',
];

/**
 * Packager's own default ignores, which it drops as soon as `ignore` is a function: executables
 * linked for npm scripts, and object files and helper binaries left by native builds. The
 * built `.node` addons themselves are kept.
 */
const BUILD_LEFTOVERS = [/\/node_modules\/\.bin(\/|$)/, /\/node_gyp_bins(\/|$)/, /\.o(bj)?$/];

/**
 * Whether Packager leaves `path` out of the app. `path` is relative to the app folder, with
 * forward slashes and a leading `/` (`/dist/electron/main.js`), or `''` for the folder itself.
 * Packager asks for folders too, and skips everything under a folder it leaves out, so the
 * parents of kept folders (`/dist`, `/renderer`) must be kept as well.
 *
 * @param {string} path
 * @returns {boolean} true to leave the path out
 */
export function isExcludedFromPackage(path) {
  if (path === '' || KEPT_FILES.includes(path)) return false;
  for (const folder of KEPT_FOLDERS) {
    if (path === folder || path.startsWith(`${folder}/`)) {
      return BUILD_LEFTOVERS.some((pattern) => pattern.test(path));
    }
    // A parent of a kept folder: kept, so Packager looks inside it; its other entries are asked
    // for one by one and left out.
    if (folder.startsWith(`${path}/`)) return false;
  }
  return true;
}
