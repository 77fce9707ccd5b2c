/**
 * The extensionTestsPath module: VS Code's extension host calls `run()` after activating the
 * extension under development, and exits with a failure code when the promise rejects.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';

// The exit code says only pass/fail, and under code-server the host's console reaches the
// browser mixed with the workbench's own log; so the counts and the spec report also go to a
// file that runExtensionTests.ts prints.
const RESULTS =
  process.env.NEUROCACHE_E2E_RESULTS ?? path.resolve(__dirname, '../../.test-output/e2e/extension-tests.json');

export function run(): Promise<void> {
  const report: string[] = [];
  const consoleLog = Mocha.reporters.Base.consoleLog;
  Mocha.reporters.Base.consoleLog = (...args: unknown[]) => {
    report.push(format(...args));
    consoleLog(...args);
  };
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 90_000 });
  for (const file of readdirSync(__dirname)
    .filter((f) => f.endsWith('.e2e.js'))
    .sort())
    mocha.addFile(path.join(__dirname, file));
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const { passes = 0, pending = 0 } = runner.stats ?? {};
      mkdirSync(path.dirname(RESULTS), { recursive: true });
      writeFileSync(RESULTS, JSON.stringify({ passes, failures, pending, report: report.join('\n') }));
      if (failures) reject(new Error(`${failures} extension test(s) failed`));
      else resolve();
    });
  });
}
