/*
 * ESLint flat config for Line Station.
 *
 * The import arrows (see docs/architecture.md and each folder's README) point downward only:
 *
 *   renderer/ ──(contract types only)──> station/api/
 *   electron/ ──> station/ ──> firmware-bridge/, certs/, dps/   (the libraries)
 *   test/ may import anything.
 *
 * - The libraries are independent of each other and of everything above them, and never import
 *   the `electron` or `react` packages, so they run under plain Node.
 * - station/ is the core: it may use the libraries but never electron/, renderer/ or the
 *   `electron`, `react`, `react-dom` packages, so the same core runs in Electron, headless and
 *   in tests.
 * - electron/ hosts the core; it may import station/ (and the libraries) but never renderer/.
 * - renderer/ is untrusted UI: it sees only the contract in station/api/, never another folder,
 *   the `electron` package or a Node built-in.
 *
 * `no-restricted-imports` matches the import string, not the resolved file, so a folder is
 * recognised by its name anywhere in a relative path (`../station/x.js`, `../../station/x.js`).
 * Dynamic `import()` is not checked. typescript-eslint runs its `recommended` set without type
 * information to keep linting fast; `npm run typecheck` does the type checking.
 */
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const sourceFiles = (folder) => [`${folder}/**/*.{ts,tsx,js,mjs}`];

/** A pattern that refuses, in files of `self`, any relative import reaching into `folder`. */
const folderBan = (self, folder, why) => ({
  group: [`**/${folder}/**`],
  message: `${why} The arrows are in ${self}/README.md and docs/architecture.md.`,
});

const packageBans = (names, why) => ({
  paths: names.map((name) => ({ name, message: why })),
  patterns: [{ group: names.map((name) => `${name}/*`), message: why }],
});

/**
 * Plain JavaScript files (config files, scripts) run under Node: its globals, taken from the
 * running Node itself rather than from a hand-kept list.
 */
const nodeGlobals = Object.fromEntries(
  Object.getOwnPropertyNames(globalThis).map((name) => [name, 'readonly']),
);

const uiPackages = ['electron', 'react', 'react-dom'];

/** Library folders: each may import none of the others and nothing above it. */
const libraryRules = (self) => {
  const others = ['firmware-bridge', 'certs', 'dps'].filter((folder) => folder !== self);
  const packages = packageBans(
    uiPackages,
    `${self}/ is a plain-Node library: no Electron or React.`,
  );
  return {
    files: sourceFiles(self),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: packages.paths,
          patterns: [
            ...['station', 'electron', 'renderer'].map((folder) =>
              folderBan(self, folder, `${self}/ is a library and may not import ${folder}/.`),
            ),
            ...others.map((folder) =>
              folderBan(
                self,
                folder,
                `Libraries stay independent: ${self}/ may not import ${folder}/.`,
              ),
            ),
            ...packages.patterns,
          ],
        },
      ],
    },
  };
};

const stationPackages = packageBans(
  uiPackages,
  'station/ runs under plain Node: no Electron or React.',
);

const electronPackages = packageBans(
  ['react', 'react-dom'],
  'electron/ is the main process: the UI lives in renderer/.',
);

const rendererMessage =
  'renderer/ is sandboxed UI: it may import only the contract types in station/api/.';

export default defineConfig(
  globalIgnores([
    '**/node_modules/',
    'out/',
    'dist/',
    'renderer/dist/',
    '**/.vite/',
    'coverage/',
    'test-artifacts/',
    '.line-station/',
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    ignores: ['renderer/**'],
    languageOptions: { globals: nodeGlobals },
  },
  libraryRules('firmware-bridge'),
  libraryRules('certs'),
  libraryRules('dps'),
  {
    files: sourceFiles('station'),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: stationPackages.paths,
          patterns: [
            folderBan(
              'station',
              'electron',
              'station/ is hosted by electron/ and may not import it.',
            ),
            folderBan('station', 'renderer', 'station/ may not import the UI.'),
            ...stationPackages.patterns,
          ],
        },
      ],
    },
  },
  {
    files: sourceFiles('electron'),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: electronPackages.paths,
          patterns: [
            folderBan('electron', 'renderer', 'electron/ talks to the UI over a MessagePort only.'),
            ...electronPackages.patterns,
          ],
        },
      ],
    },
  },
  {
    files: sourceFiles('renderer'),
    // The Vite config is build tooling that runs under Node, not part of the UI bundle.
    ignores: ['renderer/vite.config.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: rendererMessage },
            ...builtinModules.map((name) => ({ name, message: rendererMessage })),
          ],
          patterns: [
            // A gitignore negation cannot re-include station/api/ once station/ is excluded, so
            // this one is a regex: any path segment `station/` not followed by `api/`.
            { regex: '(?:^|/)station(?:/(?!api(?:/|$))|$)', message: rendererMessage },
            ...['firmware-bridge', 'certs', 'dps', 'electron'].map((folder) =>
              folderBan('renderer', folder, rendererMessage),
            ),
            { group: ['electron/*', 'node:*'], message: rendererMessage },
          ],
        },
      ],
    },
  },
);
