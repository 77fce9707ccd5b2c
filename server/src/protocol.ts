import type { DownloadProgress } from './download/arc';

/**
 * Every custom message and command between the VS Code client and the language server, in one
 * place. Other LSP clients (Neovim, Helix, Emacs) need none of these: they get diagnostics,
 * hovers and code actions through standard LSP, and can run the commands by name through
 * `workspace/executeCommand`.
 */

/** Options the client passes in `initialize`. */
export interface InitializationOptions {
  /** Where the fingerprint store lives (the extension's global storage), never a data folder. */
  storageDirectory?: string;
  /** False in a restricted-mode (untrusted) workspace: the server then never writes. */
  trusted?: boolean;
  /** `neurocache.io.readsInFlight`: cache files read at once, independent of the worker threads. */
  readsInFlight?: number;
}

/** Settings under `neurocache.*`, pulled per resource with `workspace/configuration`. */
export interface Settings {
  /** Read labels and masks (counts, categories); false checks schema and existence only. */
  contentChecks: boolean;
  /** Worker threads; 0 means one per core. Read at start-up. */
  maxWorkers: number;
  /** Extra glob patterns (beyond manifest.json / dataset_info.json) of files to check. */
  extraGlobs: string[];
  /** Most diagnostics published per file; the rest are summarised in one. */
  maxDiagnosticsPerFile: number;
  /** The training script's `default_rng` seed and composition ratios, for exact hover numbers. */
  training: { seed: number; fullRatio: number; backgroundRatio: number };
}

export const DEFAULT_SETTINGS: Settings = {
  contentChecks: true, maxWorkers: 0, extraGlobs: [], maxDiagnosticsPerFile: 1000, training: { seed: 42, fullRatio: 0.3, backgroundRatio: 2.5 },
};

/**
 * `neurocache/status` — server → client, whenever background work starts or ends or the
 * health of checked files changes. Drives the status bar item.
 */
export namespace StatusNotification {
  export const method = 'neurocache/status' as const;
  export interface Params {
    /** Files with background checks queued or running. */
    pending: number;
    /** Checked files (open and found by the workspace scan). */
    files: number;
    errors: number;
    warnings: number;
    /** One line for the tooltip, e.g. "Scanning 3 files…" or "2 stale manifests". */
    message: string;
  }
}

/** Commands the server executes (`workspace/executeCommand`); each takes the document URI. */
export const Commands = {
  /** Rescan the manifest's directory and rewrite manifest.json exactly as the Python builder would. */
  rebuildManifest: 'neurocache.rebuildManifest',
  /** Remove the entries whose cache files do not exist. */
  dropMissingEntries: 'neurocache.dropMissingEntries',
  /** Recount every mask and write the counts into lesion_volumes. */
  recomputeLesionVolumes: 'neurocache.recomputeLesionVolumes',
  /** Rewrite paths that resolve only via a parent folder or the working directory, relative to dataset_info.json. */
  rewriteLegacyPaths: 'neurocache.rewriteLegacyPaths',
  /** Find and check every manifest.json / dataset_info.json in the workspace. Takes no argument. */
  checkWorkspace: 'neurocache.checkWorkspace',
} as const;

export const WRITING_COMMANDS: readonly string[] = [Commands.rebuildManifest, Commands.dropMissingEntries, Commands.recomputeLesionVolumes, Commands.rewriteLegacyPaths];

/** What a command reports back, for the client to show. */
export interface CommandResult {
  message: string;
}

/**
 * `neurocache/downloadArc` — client → server request behind "Download ARC dataset". The
 * download runs in the server, next to the data (Remote SSH, containers); cancelling the
 * request (the notification's Cancel button) stops it, and a re-run resumes.
 */
export namespace DownloadArcRequest {
  export const method = 'neurocache/downloadArc' as const;
  export interface Params {
    /** Distinguishes this download's progress notifications. */
    id: string;
    out: string;
    endpoint?: string;
    token?: string;
    repo?: string;
    revision?: string;
    force?: boolean;
    includeTse?: boolean;
    requireMask?: boolean;
    paperParity?: boolean;
  }
  export interface Result {
    datasetInfo: string;
    samples: number;
    message: string;
  }
}

/** `neurocache/downloadProgress` — server → client while a download runs (about 4 times a second). */
export namespace DownloadProgressNotification {
  export const method = 'neurocache/downloadProgress' as const;
  export interface Params extends DownloadProgress {
    id: string;
  }
}
