/**
 * A stand-in for the VS Code executable that @vscode/test-electron's `runTests` launches, for
 * machines where desktop VS Code cannot be downloaded. It accepts the same arguments
 * (`[folder] --extensionDevelopmentPath=… --extensionTestsPath=… --user-data-dir=…
 * --extensions-dir=…`; the Electron-only ones are ignored), runs the same tests in the same
 * kind of extension host, but inside code-server: the browser page opens the folder with the
 * development and test paths in its `payload`, and the workbench calls
 * `window.codeAutomationExit(code)` when the tests end (enable-smoke-test-driver). Its exit
 * code is the tests' exit code, as with the real executable. NEUROCACHE_E2E_DEBUG=1 shows the
 * workbench's console (where the extension host's console output lands).
 */
import * as path from 'node:path';
import { launchBrowser } from './browser';
import { startCodeServer } from './codeServer';

interface Args {
  folder?: string;
  developmentPaths: string[];
  testsPath?: string;
  userDataDir?: string;
  extensionsDir?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { developmentPaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      args.folder = path.resolve(a);
      continue;
    }
    // --name=value or --name value (VS Code accepts both for these).
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const value = () => (eq < 0 ? argv[++i] : a.slice(eq + 1));
    if (name === 'extensionDevelopmentPath') args.developmentPaths.push(path.resolve(value()));
    else if (name === 'extensionTestsPath') args.testsPath = path.resolve(value());
    else if (name === 'user-data-dir') args.userDataDir = path.resolve(value());
    else if (name === 'extensions-dir') args.extensionsDir = path.resolve(value());
  }
  return args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.testsPath || !args.developmentPaths.length) {
    process.stderr.write('usage: code-standin [folder] --extensionDevelopmentPath=DIR --extensionTestsPath=FILE\n');
    return 2;
  }
  const timeoutMs = Number(process.env.NEUROCACHE_E2E_TIMEOUT_MS ?? 10 * 60_000);
  const server = await startCodeServer({
    args: ['--vscode-option', 'enable-smoke-test-driver'],
    userDataDir: args.userDataDir,
    extensionsDir: args.extensionsDir,
  });
  const browser = await launchBrowser();
  try {
    // The extension host runs on the code-server side, so it gets remote URIs for local paths.
    const remote = (p: string) => `vscode-remote://127.0.0.1:${server.port}${p}`;
    const payload = [
      ...args.developmentPaths.map((p) => ['extensionDevelopmentPath', remote(p)]),
      ['extensionTestsPath', remote(args.testsPath)],
    ];
    const query =
      (args.folder ? `folder=${encodeURIComponent(args.folder)}&` : '') +
      `payload=${encodeURIComponent(JSON.stringify(payload))}`;

    const exit = new Promise<number>((resolve) => {
      void browser.page.exposeFunction('codeAutomationExit', (code: number) => resolve(Number(code) || 0));
      browser.page.on('crash', () => resolve(1));
      setTimeout(() => {
        process.stderr.write(`code-standin: no result after ${timeoutMs} ms\n${server.log()}\n`);
        resolve(1);
      }, timeoutMs).unref();
    });
    // The workbench's console carries the extension host's console too (as its own log
    // lines); it is noise unless something goes wrong, so only on request.
    if (process.env.NEUROCACHE_E2E_DEBUG)
      browser.page.on('console', (m) => process.stderr.write(`[browser ${m.type()}] ${m.text()}\n`));
    await browser.page.goto(`${server.url}/?${query}`);
    return await exit;
  } finally {
    await browser.close();
    await server.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`code-standin: ${error instanceof Error ? error.stack : error}\n`);
    process.exit(1);
  },
);
