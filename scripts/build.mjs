// Bundles every entry point with esbuild. One bundle per process kind: the VS Code client,
// the language server, the pool worker, the CLI, the demo, the webview pages, and each test file.
// piscina is bundled too; it starts `worker.js` from the bundle's own folder, so its worker
// wrapper is bundled as out/worker.js and ours as out/neurocache-worker.js. The .vsix then
// needs no node_modules at all.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'out');
rmSync(out, { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  external: ['vscode', '@napi-rs/nice'],
  absWorkingDir: root,
  // jsonc-parser's UMD build hides its requires from esbuild; its ESM build bundles cleanly.
  mainFields: ['module', 'main'],
};

const entries = {
  client: 'client/src/extension.ts',
  server: 'server/src/serverMain.ts',
  worker: 'node_modules/piscina/dist/worker.js',
  'neurocache-worker': 'server/src/workers/worker.ts',
  // The NPZ counting task alone: a build's threads load only this.
  'neurocache-npz-worker': 'server/src/workers/npzWorker.ts',
  // The executable answers --version alone and loads cli-main (the engine and pool) for the rest.
  cli: 'server/src/cli/entry.ts',
  'cli-main': 'server/src/cli/main.ts',
  // `manifest build` alone (cli.js loads it instead of cli-main): no checks or reports to compile.
  'cli-build': 'server/src/cli/buildMain.ts',
  // cli-main loads these on demand: `arc download`'s Hub client; `lsp` runs out/server.js.
  'cli-download': 'server/src/download/arc.ts',
  demo: 'scripts/demo.ts',
  // Run below, once the bundles exist: V8 code caches for the CLI's bundles (not shipped in the .vsix).
  'code-cache': 'scripts/codeCache.ts',
  bench: 'bench/run.ts',
  'bench-count': 'bench/count.ts',
};
const builds = Object.entries(entries)
  .filter(([, file]) => existsSync(join(root, file)))
  .map(([name, file]) =>
    build({
      ...common,
      entryPoints: [file],
      outfile: join(out, `${name}.js`),
      banner: name === 'cli' ? { js: '#!/usr/bin/env node' } : undefined,
    }),
  );

// The data views' webview pages run in the editor's browser: their own bundles, with NiiVue
// only in the NIfTI viewer's (the server, the workers and the CLI never load it). Minified:
// NiiVue is most of the extension's size.
builds.push(
  build({
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
    logLevel: 'warning',
    absWorkingDir: root,
    entryPoints: { npz: 'client/webview/npz.ts', nifti: 'client/webview/nifti.ts' },
    outdir: join(out, 'webview'),
  }),
);

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? testFiles(join(dir, d.name)) : d.name.endsWith('.test.ts') ? [join(dir, d.name)] : [],
  );
}
const tests = testFiles(join(root, 'test'));
if (tests.length) {
  // Test bundles live in out/test/**, where a bundled piscina would not find its worker wrapper.
  builds.push(
    build({
      ...common,
      external: [...common.external, 'piscina'],
      entryPoints: tests,
      outdir: join(out, 'test'),
      outbase: join(root, 'test'),
    }),
  );
}
await Promise.all(builds);
execFileSync(process.execPath, [join(out, 'code-cache.js')], { stdio: 'inherit' });
