/**
 * Diagnostics' code links open docs/diagnostics.md rendered, at the code's section. The server
 * links the installed file at the heading's line (`file:…/diagnostics.md#L123`), which any LSP
 * client can open; in VS Code that opens the raw Markdown, so the client turns the link into a
 * command that puts the text at that line and opens the Markdown preview from it (the preview
 * starts at the line its editor shows; `markdown.showPreview` ignores a URI fragment).
 */
import * as vscode from 'vscode';
import { ClientCommands } from '../../server/src/protocol';

const LINE_FRAGMENT = /^L(\d+)$/;

/** Rewrites, in place, each diagnostic's link to a line of a Markdown file into the preview command. */
export function previewCodeLinks(diagnostics: readonly vscode.Diagnostic[]): void {
  for (const d of diagnostics) {
    const code = d.code;
    if (typeof code !== 'object' || code.target.scheme !== 'file' || !code.target.path.endsWith('.md')) continue;
    const line = LINE_FRAGMENT.exec(code.target.fragment);
    if (!line) continue;
    const args = [code.target.with({ fragment: '' }).toString(), Number(line[1])];
    d.code = {
      value: code.value,
      target: vscode.Uri.parse(`command:${ClientCommands.openDocs}?${encodeURIComponent(JSON.stringify(args))}`),
    };
  }
}

/** The Markdown file `file` (a URI) rendered, scrolled to its 1-based `line`. */
export async function openDocs(file: string, line: number): Promise<void> {
  const uri = vscode.Uri.parse(file);
  const at = new vscode.Range(Math.max(0, line - 1), 0, Math.max(0, line - 1), 0);
  const editor = await vscode.window.showTextDocument(uri, { preview: true, selection: at });
  editor.revealRange(at, vscode.TextEditorRevealType.AtTop);
  await vscode.commands.executeCommand('markdown.showPreview', uri);
}
