/**
 * Tier 1: the mocha suite in suite/ inside a real extension host, through @vscode/test-electron's
 * standard `runTests`. Where desktop VS Code can be downloaded it can run as is
 * (NEUROCACHE_E2E_VSCODE=download); here the code-server stand-in (standin.ts) is the
 * executable. Exit code 0 when every test passed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { ROOT } from './codeServer';
import { writeWorkspace } from './fixtures';

async function main(): Promise<number> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'neurocache-e2e-ext-'));
  const workspace = writeWorkspace(scratch);
  const standin = path.join(__dirname, 'code-standin.js');
  const vscodeExecutablePath =
    process.env.NEUROCACHE_E2E_VSCODE === 'download' ? undefined : (process.env.NEUROCACHE_E2E_VSCODE ?? standin);
  // suite/index.ts writes counts and mocha's report here.
  const results = process.env.NEUROCACHE_E2E_RESULTS ?? path.join(ROOT, '.test-output', 'e2e', 'extension-tests.json');
  rmSync(results, { force: true });
  try {
    return await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: ROOT, // the bundles npm run package just built in out/
      extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
      // Own profile and extensions folders: no other extension, no state from earlier runs.
      launchArgs: [
        workspace.root,
        '--disable-extensions',
        `--user-data-dir=${path.join(scratch, 'user-data')}`,
        `--extensions-dir=${path.join(scratch, 'extensions')}`,
      ],
      extensionTestsEnv: { NEUROCACHE_E2E_RESULTS: results },
    });
  } catch (error) {
    process.stderr.write(`extension tests: ${error instanceof Error ? error.message : error}\n`);
    return 1;
  } finally {
    // A desktop VS Code prints the extension host's console itself; code-server does not.
    if (vscodeExecutablePath === standin && existsSync(results))
      process.stdout.write(JSON.parse(readFileSync(results, 'utf8')).report + '\n');
    rmSync(scratch, { recursive: true, force: true });
  }
}

void main().then((code) => process.exit(code));
