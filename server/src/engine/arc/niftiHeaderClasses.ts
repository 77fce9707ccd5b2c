/**
 * nifti-reader-js's header classes without its index module. The index imports fflate for a
 * decompress we never call (node:zlib inflates) and fflate builds its tables at import, in
 * every pool worker (measured: ~9 ms of each worker's start-up). The package exports only its
 * index, so the two class files are imported by path.
 */
export { NIFTI1 } from '../../../../node_modules/nifti-reader-js/dist/nifti1.js';
export { NIFTI2 } from '../../../../node_modules/nifti-reader-js/dist/nifti2.js';
