/**
 * The layering rules of CONTRIBUTING.md ("Rules of the house", "Layout"), checked on the real
 * imports by dependency-cruiser (`npm run lint`). Type-only imports count: a type names the
 * module it comes from as much as a value does.
 *
 * Engine order (lowest first), as the imports stand: `diagnostics.ts` and `units.ts` are the
 * shared words every engine part may use and themselves import nothing of the engine; then
 * io < numpy < json < eeg | arc (peers that never import each other) < the engine's remaining
 * root files (`report.ts`, `invalidJson.ts`, `pictures.ts`), which may use any folder.
 */
const ENGINE = '^server/src/engine/';
const ENGINE_WORDS = '^server/src/engine/(diagnostics|units)\\.ts$';
const ENGINE_TOP = '^server/src/engine/[^/]+\\.ts$';

/** `from` may not import `to` (each a path regex). */
const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from, to });

module.exports = {
  forbidden: [
    forbid(
      'engine-is-pure',
      'The engine takes bytes/text and settings and returns plain results: no LSP, no vscode, none of the adapters around it.',
      { path: ENGINE },
      {
        path: [
          '^server/src/(service|handlers|workers|cli|download)/',
          '^server/src/(server|serverMain|threadpool)\\.ts$',
          '^client/',
          '(^|/)node_modules/(vscode-languageserver[^/]*|vscode-languageclient|vscode-jsonrpc|@types/vscode)/',
        ],
      },
    ),
    forbid(
      'engine-no-vscode',
      'The engine never imports the editor API.',
      { path: ENGINE },
      { path: '^vscode$', dependencyTypes: ['core', 'unknown', 'undetermined', 'npm', 'npm-dev'] },
    ),
    forbid(
      'engine-words-are-leaves',
      'diagnostics.ts and units.ts are used by every engine part and import none of it.',
      { path: ENGINE_WORDS },
      { path: ENGINE },
    ),
    forbid(
      'io-is-lowest',
      'io/ (byte sources, inflate, ZIP) knows nothing of the formats above it.',
      { path: `${ENGINE}io/` },
      { path: `${ENGINE}(numpy|json|eeg|arc)/|${ENGINE_TOP}`, pathNot: ENGINE_WORDS },
    ),
    forbid(
      'numpy-below-json',
      'numpy/ uses io/ only.',
      { path: `${ENGINE}numpy/` },
      { path: `${ENGINE}(json|eeg|arc)/|${ENGINE_TOP}`, pathNot: ENGINE_WORDS },
    ),
    forbid(
      'json-below-formats',
      "json/ (Python's json.load/json.dump) knows no dataset format.",
      { path: `${ENGINE}json/` },
      { path: `${ENGINE}(eeg|arc)/|${ENGINE_TOP}`, pathNot: ENGINE_WORDS },
    ),
    forbid(
      'eeg-not-arc',
      'eeg/ and arc/ are peers: neither imports the other nor the engine files above them.',
      { path: `${ENGINE}eeg/` },
      { path: `${ENGINE}arc/|${ENGINE_TOP}`, pathNot: ENGINE_WORDS },
    ),
    forbid(
      'arc-not-eeg',
      'eeg/ and arc/ are peers: neither imports the other nor the engine files above them.',
      { path: `${ENGINE}arc/` },
      { path: `${ENGINE}eeg/|${ENGINE_TOP}`, pathNot: ENGINE_WORDS },
    ),
    forbid(
      'models-not-fixes',
      'A model (manifest, dataset index, dataset_info) never imports its fixes: fixes build on models.',
      { path: `${ENGINE}(eeg|arc)/(?!fixes\\.ts$)` },
      { path: `${ENGINE}(eeg|arc)/fixes\\.ts$` },
    ),
    forbid(
      'client-only-protocol',
      'The client imports only the shared contract from the server.',
      { path: '^client/' },
      { path: '^server/', pathNot: '^server/src/protocol\\.ts$' },
    ),
    forbid(
      'protocol-imports-nothing',
      'protocol.ts is the contract both bundles import: it imports nothing.',
      { path: '^server/src/protocol\\.ts$' },
      { path: '.' },
    ),
    forbid(
      'server-not-client',
      'The server never imports the VS Code client.',
      { path: '^server/' },
      { path: '^client/' },
    ),
    forbid('no-circular-engine', 'Engine modules form no cycles.', { path: ENGINE }, { circular: true }),
    forbid(
      'not-to-unresolvable',
      'Every import resolves (a typo or a missing dependency).',
      {},
      { couldNotResolve: true, pathNot: '^vscode$' },
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(out|\\.e2e)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
    },
    moduleSystems: ['es6', 'cjs'],
  },
};
