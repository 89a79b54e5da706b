/**
 * The fuses forge.config.js flips in the packaged binary. Each one listed here closes a way to run
 * other code in the signed app, or to read what it keeps; none of them is needed by the shell.
 */
import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { describe, expect, it } from 'vitest';
import forgeConfig from '../forge.config.js';

interface FusesPluginLike {
  name: string;
  fusesConfig: Record<string | number, unknown>;
}

function fuses(): Record<string | number, unknown> {
  const plugin = (forgeConfig.plugins ?? []).find(
    (p): p is FusesPluginLike & typeof p => (p as Partial<FusesPluginLike>).name === 'fuses',
  );
  if (!plugin) throw new Error('forge.config.js has no FusesPlugin');
  return plugin.fusesConfig;
}

describe('fuses in the packaged binary', () => {
  it('turns off every way in that the shell does not use', () => {
    expect(fuses()).toMatchObject({
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
      // The UI is served on station://, never file://, so file:// pages need no privileges
      // beyond a browser's (on by default: fetching other file:// URLs, service workers).
      [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
    });
  });
});
