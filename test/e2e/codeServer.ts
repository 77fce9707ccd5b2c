/**
 * Starts a throwaway code-server (VS Code in a browser, here the only VS Code that runs
 * offline) for the e2e tests. Everything it writes (user data, extensions, TMPDIR, XDG dirs)
 * goes into one temp folder that `stop()` removes; the server runs in its own process group so
 * `stop()` also ends the extension host and the language server under it.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The repository root; every e2e bundle sits one level below it, in out-e2e/. */
export const ROOT = path.resolve(__dirname, '..');

/** What scripts/e2e-setup.sh installed, read from the file it writes last. */
export interface Tools {
  node: string;
  codeServer: string;
  chromium: string;
}
export function tools(): Tools {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, '.e2e', 'tools.json'), 'utf8')) as Tools;
  } catch {
    throw new Error('code-server is not installed: run `bash scripts/e2e-setup.sh` (npm run test:e2e does)');
  }
}

// Settings that keep the workbench quiet and deterministic: no welcome page, no AI side bar,
// no animations, nothing that reaches for the network.
const SETTINGS = {
  'workbench.startupEditor': 'none',
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.reduceMotion': 'on',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'git.enabled': false,
  'workbench.tips.enabled': false,
  'telemetry.telemetryLevel': 'off',
};

export interface StartOptions {
  /** .vsix files to install (with `--install-extension`) before the server starts. */
  vsix?: string[];
  /** Extra code-server arguments, e.g. ['--vscode-option', 'enable-smoke-test-driver']. */
  args?: string[];
  /** Where to put the user data and extensions (default: inside the temp folder). */
  userDataDir?: string;
  extensionsDir?: string;
  /** More user settings, merged over the quiet defaults. */
  settings?: Record<string, unknown>;
  /**
   * Remote ("Machine") settings: code-server's window is a remote one, which ignores
   * machine-scoped settings (such as `neurocache.hubEndpoint`) in the user settings as well as
   * in workspace settings; they apply from user-data/Machine/settings.json.
   */
  machineSettings?: Record<string, unknown>;
  /** Environment variables for code-server and everything under it (the extension host, the language server). */
  env?: Record<string, string>;
}

export interface CodeServer {
  url: string;
  port: number;
  /** The server's output so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export async function startCodeServer(options: StartOptions = {}): Promise<CodeServer> {
  const { node, codeServer } = tools();
  const temp = mkdtempSync(path.join(os.tmpdir(), 'neurocache-e2e-cs-'));
  const dir = (name: string) => {
    const d = path.join(temp, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const userData = options.userDataDir ?? dir('user-data');
  const extensions = options.extensionsDir ?? dir('extensions');
  mkdirSync(path.join(userData, 'User'), { recursive: true });
  writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify({ ...SETTINGS, ...options.settings }, null, 2),
  );
  if (options.machineSettings) {
    mkdirSync(path.join(userData, 'Machine'), { recursive: true });
    writeFileSync(path.join(userData, 'Machine', 'settings.json'), JSON.stringify(options.machineSettings, null, 2));
  }
  // An explicit config file, or code-server creates ~/.config/code-server/config.yaml.
  const config = path.join(temp, 'config.yaml');
  writeFileSync(config, 'auth: none\ncert: false\n');

  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // A VS Code terminal or test runner around us must not leak its IPC hooks into this one.
    if (!k.startsWith('VSCODE_') && k !== 'ELECTRON_RUN_AS_NODE') env[k] = v;
  }
  Object.assign(env, {
    TMPDIR: dir('tmp'),
    XDG_CONFIG_HOME: dir('config'),
    XDG_DATA_HOME: dir('data'),
    XDG_CACHE_HOME: dir('cache'),
    PATH: `${path.dirname(node)}${path.delimiter}${env.PATH ?? ''}`,
    ...options.env,
  });
  const common = ['--config', config, '--user-data-dir', userData, '--extensions-dir', extensions];

  for (const vsix of options.vsix ?? []) {
    const r = spawnSync(node, [codeServer, ...common, '--install-extension', vsix], {
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (r.status !== 0) {
      rmSync(temp, { recursive: true, force: true });
      throw new Error(`installing ${vsix} failed:\n${r.stdout}${r.stderr}`);
    }
  }

  const args = [
    codeServer,
    ...common,
    '--auth',
    'none',
    // Port 0: the kernel picks a free port and code-server prints it, so no port race.
    '--bind-addr',
    '127.0.0.1:0',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    ...(options.args ?? []),
  ];
  const child = spawn(node, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  // Last resort if the test process ends without calling stop() (a crash, Ctrl+C, a CI
  // timeout): the server is in its own process group, so nothing else would end it.
  const onExit = () => {
    killGroup(child, 'SIGKILL');
    rmSync(temp, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    onExit();
    process.off(signal, onSignal);
    process.kill(process.pid, signal); // then die of the signal as we would have
  };
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const stop = async () => {
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await endGroup(child);
    rmSync(temp, { recursive: true, force: true });
  };
  try {
    const port = await listeningPort(child, () => output, 60_000);
    return { url: `http://127.0.0.1:${port}`, port, log: () => output, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Resolves with the port once code-server prints "HTTP server listening on http://…:PORT/". */
function listeningPort(child: ChildProcess, output: () => string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`code-server did not start in ${timeoutMs} ms:\n${output()}`)),
      timeoutMs,
    );
    const check = () => {
      const m = /HTTP server listening on https?:\/\/[^\s]*:(\d+)\//.exec(output());
      if (m) done(undefined, Number(m[1]));
    };
    const exited = (code: number | null) =>
      done(new Error(`code-server exited (${code}) before listening:\n${output()}`));
    function done(error?: Error, port?: number) {
      clearTimeout(timer);
      child.stdout!.off('data', check);
      child.stderr!.off('data', check);
      child.off('exit', exited);
      if (error) reject(error);
      else resolve(port!);
    }
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.on('exit', exited);
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM to the process group, SIGKILL after 5 s if anything in it is still alive. */
async function endGroup(child: ChildProcess): Promise<void> {
  killGroup(child, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && groupAlive(child)) await new Promise((r) => setTimeout(r, 100));
  killGroup(child, 'SIGKILL');
}

function groupAlive(child: ChildProcess): boolean {
  try {
    process.kill(-child.pid!, 0);
    return true;
  } catch {
    return false;
  }
}
