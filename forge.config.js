// Electron Forge packaging for the Line Station desktop shell (`npm run make`).
import { MakerDeb } from '@electron-forge/maker-deb';
import { MakerRpm } from '@electron-forge/maker-rpm';
import { MakerSquirrel } from '@electron-forge/maker-squirrel';
import { MakerZIP } from '@electron-forge/maker-zip';
import { AutoUnpackNativesPlugin } from '@electron-forge/plugin-auto-unpack-natives';
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { isExcludedFromPackage } from './scripts/packagedFiles.js';

const description =
  'Factory-floor provisioning station: injects Azure DPS settings and device identities over ' +
  'serial, queues enrollments offline and syncs them to DPS.';

/** Metadata shared by the Linux package makers. */
const linuxPackageOptions = {
  name: 'line-station',
  productName: 'Line Station',
  bin: 'line-station',
  description,
};

/** @type {import('@electron-forge/shared-types').ForgeConfig} */
export default {
  packagerConfig: {
    // The app ships as one archive; native modules are unpacked next to it by the plugin below.
    asar: true,
    // A file name without spaces, which the deb and rpm makers expect to find.
    executableName: 'line-station',
    // An allow-list: package.json, the built shell and core, the built UI and node_modules.
    // Everything else in the repository (sources, tests, certs, docs) stays out.
    ignore: isExcludedFromPackage,
  },
  // The core runs inside Electron's own Node, whose ABI differs from the Node that `npm ci` built
  // the native addons for; Forge rebuilds them in the packaged copy of node_modules against the
  // Electron headers. `force`: the copy holds Node-ABI builds that would otherwise count as done.
  rebuildConfig: {
    // @electron/rebuild 3.x compares a scoped package by its bare name ('bindings-cpp'); 4.0.2
    // and later by its full name. Both are listed so neither version skips the serial binding.
    onlyModules: ['better-sqlite3', '@serialport/bindings-cpp', 'bindings-cpp'],
    force: true,
  },
  makers: [
    // NuGet refuses a package without authors; package.json has no author field yet.
    new MakerSquirrel({ authors: 'Line Station', description }),
    new MakerZIP({}, ['darwin', 'linux']),
    new MakerDeb({
      options: { ...linuxPackageOptions, categories: ['Utility'], section: 'utils' },
    }),
    new MakerRpm({
      options: { ...linuxPackageOptions, categories: ['Utility'], license: 'Proprietary' },
    }),
  ],
  plugins: [
    // Native addons cannot be loaded from inside an asar archive: better-sqlite3 and
    // @serialport/bindings-cpp ship .node files that must sit unpacked on disk.
    new AutoUnpackNativesPlugin({}),
    // Fuses are flipped in the packaged binary itself, so they hold even if an attacker controls
    // the environment or the command line of the installed app.
    new FusesPlugin({
      version: FuseVersion.V1,
      // ELECTRON_RUN_AS_NODE would turn the signed binary into a general Node runtime. The core
      // runs as a utilityProcess, which does not need it.
      [FuseV1Options.RunAsNode]: false,
      // Cookies and local storage are encrypted with an OS-protected key, not kept in clear.
      [FuseV1Options.EnableCookieEncryption]: true,
      // NODE_OPTIONS could preload arbitrary code into the main process.
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      // --inspect and friends would let anyone at the keyboard attach a debugger to main.
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      // The app archive is checked against the hash embedded at packaging time (macOS, Windows).
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      // Only the packaged app.asar is loaded, never a loose app/ folder placed beside it.
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
      // The UI is served on the private station:// scheme, never from file://, so file:// pages
      // keep only a browser's rights (on by default they may fetch any other file:// URL).
      [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
    }),
  ],
};
