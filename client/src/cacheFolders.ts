/**
 * The workspace's cache folders (those holding *.npz or a manifest.json), for the Explorer's
 * "Build manifest.json here" (shown on folders holding *.npz, through the context key
 * `neurocache.cacheFolders`) and the palette's "Rebuild manifest.json" when no manifest is active.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';

/** The context key the Explorer menu's `when` reads: file-system paths of folders holding *.npz. */
export const CACHE_FOLDERS_KEY = 'neurocache.cacheFolders';

/** Files looked at to find the folders: a bound, so a huge workspace costs one bounded search. */
const MAX_FILES = 20_000;

async function foldersOf(glob: string): Promise<Set<string>> {
  const files = await vscode.workspace.findFiles(glob, '**/node_modules/**', MAX_FILES);
  return new Set(files.filter((f) => f.scheme === 'file').map((f) => path.dirname(f.fsPath)));
}

export class CacheFolders implements vscode.Disposable {
  private readonly watcher = vscode.workspace.createFileSystemWatcher('**/*.npz', false, true, false);
  private refreshing: Promise<void> | undefined;
  private again = false;

  constructor() {
    this.watcher.onDidCreate(() => this.refresh());
    this.watcher.onDidDelete(() => this.refresh());
    this.refresh();
  }

  /** Recomputes the context key; a change during a search runs one more search after it. */
  refresh(): void {
    if (this.refreshing) {
      this.again = true;
      return;
    }
    this.refreshing = foldersOf('**/*.npz')
      .then((folders) => vscode.commands.executeCommand('setContext', CACHE_FOLDERS_KEY, [...folders].sort()))
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.refreshing = undefined;
        if (this.again) {
          this.again = false;
          this.refresh();
        }
      });
  }

  /** Asks which cache folder to (re)build manifest.json in; undefined when there is none or the user cancels. */
  async pick(): Promise<vscode.Uri | undefined> {
    const [npz, manifests] = await Promise.all([foldersOf('**/*.npz'), foldersOf('**/manifest.json')]);
    const folders = [...new Set([...npz, ...manifests])].sort();
    if (folders.length === 0) {
      void vscode.window.showWarningMessage(
        'NeuroCache: no folder in the workspace holds *.npz cache files or a manifest.json.',
      );
      return undefined;
    }
    const items = folders.map((folder) => ({
      label: vscode.workspace.asRelativePath(folder, true),
      description: [npz.has(folder) ? '*.npz' : '', manifests.has(folder) ? 'manifest.json' : '']
        .filter(Boolean)
        .join(', '),
      folder,
    }));
    const chosen = await vscode.window.showQuickPick(items, {
      title: 'Rebuild manifest.json in which cache folder?',
      placeHolder: 'Folders holding *.npz or a manifest.json',
    });
    return chosen && vscode.Uri.file(chosen.folder);
  }

  dispose(): void {
    this.watcher.dispose();
  }
}
