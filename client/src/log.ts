/**
 * The NeuroCache output channel: a LogOutputChannel that the language client writes the
 * server's `window/logMessage` lines into, and this extension its own, both filtered by
 * `neurocache.logLevel` (the server filters its side itself).
 *
 * A log channel also has VS Code's own level (the Output panel's gear, default Info): debug
 * lines pass only when both allow them, so asking for `debug` while the channel hides debug
 * lines earns one line saying where to change that.
 */
import * as vscode from 'vscode';
import { DEFAULT_WINDOW_SETTINGS, LOG_LEVELS, LogLevel } from '../../server/src/protocol';

export function logLevelSetting(): LogLevel {
  const value = vscode.workspace
    .getConfiguration('neurocache')
    .get<string>('logLevel', DEFAULT_WINDOW_SETTINGS.logLevel);
  return (LOG_LEVELS as readonly string[]).includes(value) ? (value as LogLevel) : DEFAULT_WINDOW_SETTINGS.logLevel;
}

export class ClientLog implements vscode.Disposable {
  private level = logLevelSetting();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(readonly channel: vscode.LogOutputChannel) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('neurocache.logLevel')) return;
        this.level = logLevelSetting();
        this.adviseOnDebug();
      }),
      channel.onDidChangeLogLevel(() => this.adviseOnDebug()),
    );
    this.adviseOnDebug();
  }

  private enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(this.level);
  }

  private adviseOnDebug(): void {
    if (this.level === 'debug' && this.channel.logLevel > vscode.LogLevel.Debug) {
      this.channel.info(
        'neurocache.logLevel is "debug", but this output channel hides debug lines: choose Debug under the gear of the Output panel (or "Developer: Set Log Level…" → NeuroCache) to see them.',
      );
    }
  }

  error(line: string): void {
    this.channel.error(line);
  }

  warn(line: string): void {
    if (this.enabled('warn')) this.channel.warn(line);
  }

  info(line: string): void {
    if (this.enabled('info')) this.channel.info(line);
  }

  debug(line: string): void {
    if (this.enabled('debug')) this.channel.debug(line);
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
  }
}
