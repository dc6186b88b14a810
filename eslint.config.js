// Lint: typescript-eslint's type-aware rules (floating promises, type-only imports, no any in
// src/). Formatting is Prettier's alone (eslint-config-prettier turns off overlapping rules).
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import importX from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

// The layering of src/ (docs/ARCHITECTURE.md): protocol/ and domain/ are leaves; the store, the
// transports, resources and the clock know nothing of the engine or anything above it; the engine
// never imports the API, the CLI, a client or a concrete backend; backends never know each other.
const ABOVE_ALL = ["api", "cli", "client"];
const layer = (files, folders, extra = []) => ({
  files,
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          ...folders.map((folder) => ({
            group: [`**/${folder}/**`, `**/${folder}.js`],
            message: `${files[0]} must not import ${folder}/ (see the layering in docs/ARCHITECTURE.md)`,
          })),
          ...extra,
        ],
      },
    ],
  },
});
const ALL_FOLDERS = [
  ...ABOVE_ALL,
  "engine",
  "store",
  "config",
  "handlers",
  "resources",
  "observability",
  "security",
  "transport",
  "clock",
];
const BELOW_ENGINE = [...ABOVE_ALL, "engine", "config", "handlers", "observability", "security"];

export default tseslint.config(
  { ignores: ["dist/", "schemas/", "coverage/", "data/", "node_modules/", "test-artifacts/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["*.js", "scripts/*.mjs"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-import-type-side-effects": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // The SQLite store implements an async port with a synchronous driver.
    files: ["src/store/sqlite/**/*.ts"],
    rules: { "@typescript-eslint/require-await": "off" },
  },
  {
    // Tests assert on loosely typed values; the type-checked "unsafe" rules add noise there.
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/require-await": "off",
      // Tests throw and reject with non-Errors on purpose, to check how they are handled.
      "@typescript-eslint/only-throw-error": "off",
      "@typescript-eslint/prefer-promise-reject-errors": "off",
    },
  },
  {
    // No import cycles between the files of src/.
    files: ["src/**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "./tsconfig.json" })],
    },
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
  layer(["src/protocol/**/*.ts", "src/domain/**/*.ts"], ALL_FOLDERS),
  layer(["src/store/**/*.ts"], [...BELOW_ENGINE, "transport", "resources"]),
  layer(["src/store/sqlite/**/*.ts"], [...BELOW_ENGINE, "transport", "resources", "postgres"]),
  layer(["src/store/postgres/**/*.ts"], [...BELOW_ENGINE, "transport", "resources", "sqlite"]),
  layer(["src/transport/**/*.ts", "src/resources/**/*.ts", "src/clock/**/*.ts"], [...BELOW_ENGINE, "store"]),
  layer(["src/engine/**/*.ts"], [...ABOVE_ALL, "store/sqlite", "store/postgres", "transport/memory"]),
  { files: ["**/*.js", "**/*.mjs"], ...tseslint.configs.disableTypeChecked },
  prettier,
);
