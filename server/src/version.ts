/** NeuroCache's version: package.json's, bundled at build time (only this field). */
export { version as NEUROCACHE_VERSION } from '../../package.json';
