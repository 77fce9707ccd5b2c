/**
 * The Hugging Face token, kept in VS Code's secret storage (never in settings, never logged)
 * and sent to the server with a download request only. Without one the server falls back to
 * HF_TOKEN, HUGGING_FACE_HUB_TOKEN and the token file at HF_TOKEN_PATH (default under HF_HOME), as the CLI does.
 *
 * The old plain-text setting `neurocache.hubToken` is no longer read: a value found in the
 * user (or remote) settings, at start-up or when it is set, is moved into secret storage and
 * removed from the settings.
 */
import * as vscode from 'vscode';
import type { ClientLog } from './log';

const SECRET = 'neurocache.hubToken';
const OLD_SETTING = 'hubToken';

export class HubToken {
  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly log: ClientLog,
  ) {}

  /** The stored token, if any. */
  async get(): Promise<string | undefined> {
    await this.moveOldSetting();
    return (await this.secrets.get(SECRET)) || undefined;
  }

  /** Moves a token found in the deprecated `neurocache.hubToken` setting into secret storage. */
  async moveOldSetting(): Promise<void> {
    const config = vscode.workspace.getConfiguration('neurocache');
    // Machine-scoped: only the user (or remote) settings count; VS Code ignores workspace values.
    const old = config.inspect<string>(OLD_SETTING)?.globalValue;
    if (typeof old !== 'string' || !old.trim()) return;
    await this.secrets.store(SECRET, old.trim());
    try {
      await config.update(OLD_SETTING, undefined, vscode.ConfigurationTarget.Global);
      this.log.info(
        "Moved the Hugging Face token from the setting neurocache.hubToken into VS Code's secret storage and removed the setting.",
      );
      void vscode.window.showInformationMessage(
        "NeuroCache: moved your Hugging Face token from the neurocache.hubToken setting into VS Code's secret storage (the setting is no longer read).",
      );
    } catch (error) {
      this.log.warn(
        `Moved the Hugging Face token into VS Code's secret storage, but could not remove the neurocache.hubToken setting (${(error as Error).message}): remove it by hand.`,
      );
    }
  }

  /** "Set Hugging Face Token": a password box; empty removes the stored token. */
  async prompt(): Promise<void> {
    const value = await vscode.window.showInputBox({
      title: 'NeuroCache: Hugging Face token for the ARC download',
      prompt:
        "Kept in VS Code's secret storage and sent only to the Hub endpoint. Leave empty to remove it (HF_TOKEN, HUGGING_FACE_HUB_TOKEN or the token file at HF_TOKEN_PATH are used then).",
      placeHolder: 'hf_…',
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) =>
        v.trim() === '' || /^hf_\S+$/.test(v.trim())
          ? undefined
          : 'A Hugging Face token starts with "hf_" and has no spaces.',
    });
    if (value === undefined) return;
    if (!value.trim()) {
      await this.secrets.delete(SECRET);
      this.log.info(
        'Removed the Hugging Face token from secret storage; downloads use HF_TOKEN, HUGGING_FACE_HUB_TOKEN or the token file at HF_TOKEN_PATH, if any.',
      );
      void vscode.window.showInformationMessage(
        'NeuroCache: Hugging Face token removed; downloads use HF_TOKEN, HUGGING_FACE_HUB_TOKEN or the token file at HF_TOKEN_PATH, if any.',
      );
      return;
    }
    await this.secrets.store(SECRET, value.trim());
    this.log.info('Stored a Hugging Face token in secret storage.');
    void vscode.window.showInformationMessage(
      "NeuroCache: Hugging Face token saved in VS Code's secret storage; it is sent only to the Hub endpoint, with downloads.",
    );
  }
}
