/**
 * `workspace/didChangeConfiguration`: the settings cache is dropped and every checked file is
 * checked again with the new settings (apart from settings.ts, which diagnostics.ts reads: a
 * change re-schedules checks, and the checks read settings).
 */
import type { DidChangeConfigurationParams } from 'vscode-languageserver/node';
import { scheduleCheck } from './diagnostics';
import { logSettings, refreshLogLevel } from './settings';
import type { ServerState } from './state';

export async function didChangeConfiguration(state: ServerState, params: DidChangeConfigurationParams): Promise<void> {
  state.settings.pushed = params.settings;
  state.settings.byScope.clear();
  for (const uri of state.documents.tracked.keys()) scheduleCheck(state, uri, 0);
  await refreshLogLevel(state);
  await logSettings(state);
}
