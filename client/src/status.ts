/**
 * The status bar item: the language server's health (starting, ready, busy with what, failed
 * or stopped), as rust-analyzer's. Problem counts are not repeated here: VS Code's own status
 * bar item and the Problems panel show them. A click shows the output; the tooltip offers the
 * other commands.
 */
import * as vscode from 'vscode';
import { ClientCommands, Commands, StatusNotification } from '../../server/src/protocol';

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
    this.item.text = `${icon} NeuroCache${!failed && doing ? `: ${doing}` : ''}`;
    const line =
      health.kind === 'starting'
        ? 'Starting the language server…'
        : health.kind === 'stopped'
          ? `The language server stopped: ${health.reason}`
          : (status?.message ?? 'Ready');
    this.item.tooltip = tooltip(line);
    this.item.accessibilityInformation = { label: `NeuroCache: ${line}` };
    this.item.backgroundColor = failed ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}

function tooltip(line: string): vscode.MarkdownString {
  const restricted = vscode.workspace.isTrusted
    ? ''
    : '\n\nRestricted mode: NeuroCache never writes or downloads here.';
  const links = [
    `[Show Output](command:${ClientCommands.showOutput})`,
    `[Restart Server](command:${ClientCommands.restartServer})`,
    `[Check Workspace](command:${Commands.checkWorkspace})`,
  ].join(' · ');
  const text = new vscode.MarkdownString(`**NeuroCache**: ${escape(line)}${restricted}\n\n${links}`);
  text.isTrusted = {
    enabledCommands: [ClientCommands.showOutput, ClientCommands.restartServer, Commands.checkWorkspace],
  };
  return text;
}

/** Status lines hold file paths and server messages: shown as text, never as Markdown. */
function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
