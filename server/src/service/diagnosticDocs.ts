/**
 * Where each diagnostic code is explained: a `## code` section of docs/diagnostics.md, which
 * ships with the extension and the CLI next to the bundles (out/../docs). A diagnostic links
 * to its section with LSP's `codeDescription.href`, as ESLint's link to their rule pages.
 *
 * The link is the installed file's URI with the section's line as fragment (`#L42`): VS Code
 * opens a file URI in an editor at the line its fragment names (`#L42` or `#42`), and ignores
 * any other fragment (a `#missing-cache-file` anchor would open the top of the file); a
 * `command:` URI is refused by the diagnostic hover, which opens links without command
 * rights. In a remote window the extension host's file URI is mapped to the remote file.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** docs/diagnostics.md beside the running bundle (out/server.js, out/cli.js). */
export const DIAGNOSTICS_DOC = path.join(__dirname, '..', 'docs', 'diagnostics.md');

/** The 1-based line of each `## code` heading in the markdown. */
export function codeSections(markdown: string): Map<string, number> {
  const sections = new Map<string, number>();
  markdown.split('\n').forEach((line, i) => {
    const heading = /^## ([a-z0-9-]+)\s*$/.exec(line);
    if (heading) sections.set(heading[1], i + 1);
  });
  return sections;
}

/** The href of each documented code, e.g. `file:///…/docs/diagnostics.md#L66`. */
export function codeLinks(doc: string): Map<string, string> {
  let markdown: string;
  try {
    markdown = readFileSync(doc, 'utf8');
  } catch {
    return new Map(); // not shipped (a bare bundle): diagnostics go without links
  }
  const file = pathToFileURL(doc).href;
  return new Map([...codeSections(markdown)].map(([code, line]) => [code, `${file}#L${line}`]));
}

let installed: Map<string, string> | undefined;

/** The link to `code`'s section in the installed docs, if it has one. */
export function codeLink(code: string): string | undefined {
  installed ??= codeLinks(DIAGNOSTICS_DOC);
  return installed.get(code);
}
