/**
 * The HTML of a data view's webview: one bundled script (out/webview/NAME.js) with a nonce, a
 * content security policy that allows nothing else (no remote content, no inline code, no
 * eval), and `localResourceRoots` limited to the bundled webview assets. The data comes only
 * as messages from the extension host, which asks the language server for it.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** Where the webview bundles are, inside the extension. */
export function webviewRoot(extension: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extension, 'out', 'webview');
}

export function webviewOptions(extension: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [webviewRoot(extension)] };
}

export function webviewHtml(
  webview: vscode.Webview,
  extension: vscode.Uri,
  script: 'npz' | 'nifti',
  title: string,
): string {
  const nonce = randomBytes(18).toString('base64');
  const src = webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot(extension), `${script}.js`));
  const csp = [
    "default-src 'none'",
    // Pictures drawn by the server arrive as data: URIs; NiiVue draws on canvases.
    `img-src ${webview.cspSource} data: blob:`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(title)}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<main id="app" data-state="loading"><p>Loading ${escapeHtml(title)}…</p></main>
<script nonce="${nonce}" src="${src}"></script>
</body>
</html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// The editor's own colours and fonts, so the views look like the rest of VS Code in any theme.
const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); background: var(--vscode-editor-background); padding: 0 16px 24px; }
h1 { font-size: 1.3em; margin: 14px 0 6px; } h2 { font-size: 1.1em; margin: 18px 0 6px; }
table { border-collapse: collapse; } td, th { padding: 2px 10px 2px 0; text-align: left; vertical-align: top; }
th { font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { opacity: 0.75; } .error { color: var(--vscode-errorForeground); } .warning { color: var(--vscode-editorWarning-foreground); }
.bar { display: flex; height: 14px; width: 480px; max-width: 100%; border-radius: 2px; overflow: hidden; }
.partial { background: rgb(230,126,34); } .full { background: rgb(192,57,43); } .none { background: rgb(127,140,141); }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
canvas { display: block; } #strip { cursor: pointer; border: 1px solid var(--vscode-panel-border); }
a { color: var(--vscode-textLink-foreground); cursor: pointer; }
.controls { display: flex; flex-wrap: wrap; gap: 14px; align-items: center; margin: 8px 0; }
#gl-box { position: relative; width: 100%; height: 70vh; min-height: 360px; } #gl { position: absolute; inset: 0; width: 100%; height: 100%; background: #000; }
#fallback img { image-rendering: pixelated; width: 480px; max-width: 100%; }
#training-grid img { image-rendering: pixelated; width: 256px; max-width: 100%; }
`;

/**
 * The language server a view asks for its data, or why it cannot: the server reads the file
 * where the data is, so a view needs it running and a `file:` document.
 */
export function serverFor<C>(client: C | undefined, uri: vscode.Uri): C {
  if (!client)
    throw new Error('the NeuroCache language server is not running ("NeuroCache: Restart Server" starts it)');
  if (uri.scheme !== 'file') {
    throw new Error(`${uri.scheme}: files cannot be read by the language server; open the file from the workspace`);
  }
  return client;
}
