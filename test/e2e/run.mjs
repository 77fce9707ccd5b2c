// `npm run test:e2e`: the "real VS Code" tiers.
//   1. scripts/e2e-setup.sh (a no-op once .e2e/ is complete), then `npm run package`;
//   2. esbuild bundles of test/e2e into out-e2e/ (not out/, which scripts/build.mjs wipes);
//   3. tier 1, the extension-host suite through @vscode/test-electron (runExtensionTests.ts);
//   4. tier 2, the Playwright scenarios under node:test: every test/e2e/*.e2e.ts
//      (workbench.e2e.ts, arc.e2e.ts, …), one after another, screenshots in .test-output/e2e/.
// Both tiers always run; the exit code is non-zero when either fails, and the last line is
// "e2e: N passed, N failed".
// Options: --no-setup, --no-package (reuse neurocache.vsix and out/), --only=extension|workbench,
// --scenario=NAME (tier 2 runs only test/e2e/NAME.e2e.ts, e.g. --scenario=arc).
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

// Node 22+ (code-server runs on 24) keeps a compile cache in the temp folder unless told not to:
// the tests must leave TMPDIR as they found it.
process.env.NODE_DISABLE_COMPILE_CACHE = '1';
const root = new URL('../..', import.meta.url).pathname;
const outDir = join(root, 'out-e2e');
const shots = join(root, '.test-output', 'e2e');
const results = join(shots, 'extension-tests.json');
// Tier 2: each top-level test/e2e/NAME.e2e.ts is a Playwright scenario, bundled to out-e2e/NAME.e2e.js.
const scenarios = readdirSync(join(root, 'test', 'e2e'))
  .filter((f) => f.endsWith('.e2e.ts'))
  .sort()
  .map((f) => f.slice(0, -3));
const flags = new Set(process.argv.slice(2));
const only = [...flags].find((f) => f.startsWith('--only='))?.slice(7);
const scenario = [...flags].find((f) => f.startsWith('--scenario='))?.slice(11);

/** Runs a command with inherited stdio (and a copy of stdout when `capture`); resolves with its exit code. */
function run(command, args, { capture = false, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'],
      env: { ...process.env, ...env },
    });
    let output = '';
    child.stdout?.on('data', (d) => {
      output += d;
      process.stdout.write(d);
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

async function must(command, args) {
  const { code } = await run(command, args);
  if (code !== 0) {
    console.error(`e2e: \`${command} ${args.join(' ')}\` failed (${code})`);
    process.exit(code);
  }
}

if (!flags.has('--no-setup')) await must('bash', [join(root, 'scripts', 'e2e-setup.sh')]);
if (!flags.has('--no-package')) await must('npm', ['run', 'package', '--silent']);
if (!existsSync(join(root, 'neurocache.vsix'))) {
  console.error('e2e: neurocache.vsix is missing: run npm run package');
  process.exit(1);
}

rmSync(outDir, { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'inline',
  logLevel: 'warning',
  absWorkingDir: root,
  packages: 'external',
  external: ['vscode'],
  outdir: outDir,
};
await Promise.all([
  build({
    ...common,
    entryPoints: {
      runExtensionTests: 'test/e2e/runExtensionTests.ts',
      ...Object.fromEntries(scenarios.map((name) => [name, `test/e2e/${name}.ts`])),
      'suite/index': 'test/e2e/suite/index.ts',
      'suite/extension.e2e': 'test/e2e/suite/extension.e2e.ts',
    },
  }),
  // runTests spawns this directly, as it would spawn the VS Code binary: a shebang and +x.
  build({ ...common, entryPoints: { 'code-standin': 'test/e2e/standin.ts' }, banner: { js: '#!/usr/bin/env node' } }),
]);
chmodSync(join(outDir, 'code-standin.js'), 0o755);

let passed = 0;
let failed = 0;

if (!only || only === 'extension') {
  console.log('\n# Tier 1: extension tests in the extension host (@vscode/test-electron + mocha)');
  const { code } = await run(process.execPath, [join(outDir, 'runExtensionTests.js')], {
    env: { NEUROCACHE_E2E_RESULTS: results },
  });
  const counts = existsSync(results) ? JSON.parse(readFileSync(results, 'utf8')) : undefined;
  if (counts) {
    passed += counts.passes;
    failed += counts.failures;
  }
  // A run that crashed before mocha reported counts as one failure.
  if (code !== 0 && (!counts || counts.failures === 0)) failed += 1;
}

if (!only || only === 'workbench') {
  console.log(`\n# Tier 2: a person at the workbench (playwright-core + Chromium, node:test): ${scenarios.join(', ')}`);
  // Screenshots from an earlier run would pass for this run's.
  mkdirSync(shots, { recursive: true });
  for (const f of readdirSync(shots)) if (f.endsWith('.png')) rmSync(join(shots, f));
  // One scenario at a time: each runs its own code-server and Chromium, and their timing is
  // part of what they wait on.
  const files = scenarios
    .filter((name) => !scenario || name === `${scenario}.e2e`)
    .map((name) => join(outDir, `${name}.js`));
  if (files.length === 0) {
    console.error(`e2e: no scenario test/e2e/${scenario}.e2e.ts`);
    process.exit(1);
  }
  const { code, output } = await run(
    process.execPath,
    ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
    { capture: true },
  );
  // node:test's spec reporter ends with "ℹ pass N" / "ℹ fail N" (subtests included).
  const count = (name) => Number(new RegExp(`^\\S* ?${name} (\\d+)$`, 'm').exec(output)?.[1] ?? 0);
  passed += count('pass');
  failed += count('fail');
  if (code !== 0 && count('fail') === 0) failed += 1;
}

console.log(`\ne2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
