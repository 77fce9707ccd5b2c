/**
 * The server's log: `window/logMessage` at the message's own type (error, warning, info,
 * debug), filtered by `neurocache.logLevel` here, so that a debug line costs nothing unless
 * asked for. The level comes with `initialize` and is re-read on `didChangeConfiguration`
 * (pulled when the client answers `workspace/configuration`, else from the pushed settings).
 */
import type { Connection } from 'vscode-languageserver/node';
import { DEFAULT_WINDOW_SETTINGS, LOG_LEVELS, LogLevel } from '../protocol';

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

export class ServerLog {
  level: LogLevel = DEFAULT_WINDOW_SETTINGS.logLevel;

  constructor(private readonly connection: Connection) {}

  /** Whether lines of `level` are sent (to skip building expensive ones). */
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(this.level);
  }

  error(line: string): void {
    this.connection.console.error(line);
  }

  warn(line: string): void {
    if (this.enabled('warn')) this.connection.console.warn(line);
  }

  info(line: string): void {
    if (this.enabled('info')) this.connection.console.info(line);
  }

  debug(line: string): void {
    if (this.enabled('debug')) this.connection.console.debug(line);
  }
}
