/** NeuroCache's version: package.json's, bundled at build time (only this field). */
export { version as NEUROCACHE_VERSION } from '../../package.json';

/** The command-line arguments that ask for it (the executable answers them before loading anything else). */
export const VERSION_ARGUMENTS: ReadonlySet<string> = new Set(['--version', '-V', 'version']);
