/**
 * The status bar item, in rust-analyzer's states: starting, busy with what, failed or stopped,
 * and when ready the errors and warnings in NeuroCache's files (VS Code's own counts mix in
 * every other extension's). The tooltip names the last workspace scan and offers the commands;
 * a click shows the output.
 */
import * as vscode from 'vscode';
import { ClientCommands, Commands, plural, StatusNotification } from '../../server/src/protocol';

type Health =
  { kind: 'starting' } | { kind: 'running'; status?: StatusNotification.Params } | { kind: 'stopped'; reason: string };

export class ServerStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('neurocache.status', vscode.StatusBarAlignment.Left, 10);

  constructor() {
    this.item.name = 'NeuroCache';
    this.item.command = ClientCommands.showOutput;
    this.show({ kind: 'starting' });
    this.item.show();
  }

  starting(): void {
    this.show({ kind: 'starting' });
  }

  running(status?: StatusNotification.Params): void {
    this.show({ kind: 'running', status });
  }

  stopped(reason: string): void {
    this.show({ kind: 'stopped', reason });
  }

  private show(health: Health): void {
    const status = health.kind === 'running' ? health.status : undefined;
    const failed = health.kind === 'stopped' || status?.health === 'error';
    const busy = health.kind === 'starting' || !!status?.activity;
    const icon = failed ? '$(error)' : busy ? '$(sync~spin)' : '$(database)';
    const doing = health.kind === 'starting' ? 'starting' : status?.activity;
    const errors = status?.errors ?? 0;
    const warnings = status?.warnings ?? 0;
    const counts =
      status && !failed && !doing && (errors || warnings) ? ` $(error) ${errors} $(warning) ${warnings}` : '';
    this.item.text = `${icon} NeuroCache${!failed && doing ? `: ${doing}` : ''}${counts}`;
    const line =
      health.kind === 'starting'
        ? 'Starting the language server…'
        : health.kind === 'stopped'
          ? `The language server stopped: ${health.reason}`
          : (status?.message ?? 'Ready');
    const findings = status
      ? `${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${plural(status.files, 'file')}`
      : undefined;
    this.item.tooltip = tooltip(line, findings, status?.lastScan);
    this.item.accessibilityInformation = { label: `NeuroCache: ${line}${findings ? `; ${findings}` : ''}` };
    // Red for a failure, yellow while files have errors (as rust-analyzer's warning state), plain otherwise.
    this.item.backgroundColor = failed
      ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : errors
        ? new vscode.ThemeColor('statusBarItem.warningBackground')
        : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}

function tooltip(
  line: string,
  findings: string | undefined,
  lastScan: StatusNotification.Params['lastScan'],
): vscode.MarkdownString {
  const restricted = vscode.workspace.isTrusted
    ? ''
    : '\n\nRestricted mode: NeuroCache never writes or downloads here.';
  const scanned = lastScan
    ? `\n\nLast workspace scan: ${plural(lastScan.files, 'file')} in ${lastScan.seconds} s, at ${new Date(lastScan.finished).toLocaleTimeString()}`
    : '';
  const links = [
    `[Show Output](command:${ClientCommands.showOutput})`,
    `[Restart Server](command:${ClientCommands.restartServer})`,
    `[Check Workspace](command:${Commands.checkWorkspace})`,
  ].join(' · ');
  const text = new vscode.MarkdownString(
    `**NeuroCache**: ${escape(line)}${findings ? `\n\n${escape(findings)}` : ''}${escape(scanned)}${restricted}\n\n${links}`,
  );
  text.isTrusted = {
    enabledCommands: [ClientCommands.showOutput, ClientCommands.restartServer, Commands.checkWorkspace],
  };
  return text;
}

/** Status lines hold file paths and server messages: shown as text, never as Markdown. */
function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
