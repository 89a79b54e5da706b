/**
 * Types for the two plain-JavaScript modules these tests import. Forge loads them with plain
 * Node, so they stay JavaScript, and tsc reads no JavaScript here (no `allowJs`): without these
 * declarations each import would be an implicit `any`.
 */
declare module '*/forge.config.js' {
  import type { ForgeConfig } from '@electron-forge/shared-types';

  const config: ForgeConfig;
  export default config;
}

declare module '*/scripts/packagedFiles.js' {
  /** True when Electron Packager leaves `path` (app-relative, leading `/`) out of the app. */
  export function isExcludedFromPackage(path: string): boolean;
}
