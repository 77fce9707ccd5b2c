/**
 * Explorer badges on the data files NeuroCache's checks found problems in (as Git and DVC badge
 * theirs): the server sends, per checked document, the files its findings are about
 * (`neurocache/fileProblems`); a file named by several documents shows their sum.
 */
import * as vscode from 'vscode';
import { FileProblem, FileProblemsNotification } from '../../server/src/protocol';

export class FileBadges implements vscode.FileDecorationProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri[]>();
  readonly onDidChangeFileDecorations = this.changed.event;
  /** Per document URI, its files' problems by file URI. */
  private readonly byDocument = new Map<string, Map<string, FileProblem>>();
  private readonly registration = vscode.window.registerFileDecorationProvider(this);

  update({ document, files }: FileProblemsNotification.Params): void {
    const before = [...(this.byDocument.get(document)?.keys() ?? [])];
    if (files.length) this.byDocument.set(document, new Map(files.map((f) => [f.uri, f])));
    else this.byDocument.delete(document);
    const touched = new Set([...before, ...files.map((f) => f.uri)]);
    if (touched.size) this.changed.fire([...touched].map((uri) => vscode.Uri.parse(uri)));
  }

  /** The server stopped: its findings are gone with it. */
  clear(): void {
    const all = new Set([...this.byDocument.values()].flatMap((files) => [...files.keys()]));
    this.byDocument.clear();
    if (all.size) this.changed.fire([...all].map((uri) => vscode.Uri.parse(uri)));
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    const key = uri.toString();
    let errors = 0;
    let warnings = 0;
    const lines: string[] = [];
    for (const files of this.byDocument.values()) {
      const problem = files.get(key);
      if (!problem) continue;
      errors += problem.errors;
      warnings += problem.warnings;
      if (!lines.includes(problem.tooltip)) lines.push(problem.tooltip);
    }
    if (!errors && !warnings) return undefined;
    // Badges hold two characters: the count of the worst kind, as the Problems view counts them.
    const count = errors || warnings;
    const decoration = new vscode.FileDecoration(
      count > 99 ? '99' : String(count),
      `NeuroCache: ${lines.join('\n')}`,
      new vscode.ThemeColor(errors ? 'list.errorForeground' : 'list.warningForeground'),
    );
    decoration.propagate = false;
    return decoration;
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}
