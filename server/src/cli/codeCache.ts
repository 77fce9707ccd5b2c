/**
 * Loading a CLI bundle with V8's code cache: the bytecode of every function a typical run
 * compiled, saved by the build next to the bundle (`<bundle>.v8cache`, made by
 * scripts/codeCache.ts), so a short process deserialises it instead of parsing and compiling the
 * same ~250-450 KB of JavaScript again. Measured on the bench's 40-file local build (farm-bench,
 * 31 pairs): 141 → 129 ms wall, CPU 0.93×. Node 22's module.enableCompileCache does the same at
 * run time; Node 20, which the CLI supports, has no such switch.
 *
 * V8 accepts a cache for any source of the same length (its own check is the length and its
 * version and flags), so a cache is used only when its header names this very source: its byte
 * length and CRC-32. A cache missing, stale, or rejected by another V8 costs nothing but its read:
 * the bundle is compiled as `require` would.
 */
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import * as path from 'node:path';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';

/** "NCV8", then the source's byte length and CRC-32 (little-endian u32 each), then V8's data. */
const MAGIC = 0x3856434e;
const HEADER_BYTES = 12;

export const codeCacheFile = (bundle: string) => `${bundle}.v8cache`;

/** A bundle compiled as a CommonJS module, ready to run; `cacheUsed` says whether V8 took the cache offered. */
export interface CompiledBundle {
  script: Script;
  cacheUsed: boolean;
  /** Runs the module's code once and returns its exports. */
  run(): unknown;
  /** The header and V8's cache of everything compiled so far, for codeCacheFile(bundle). */
  cacheBytes(): Buffer;
}

export function compileBundle(file: string, cache?: Buffer): CompiledBundle {
  const bytes = readFileSync(file);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(bytes.length, 4);
  header.writeUInt32LE(crc32(bytes), 8);
  const matches = cache !== undefined && cache.length > HEADER_BYTES && header.equals(cache.subarray(0, HEADER_BYTES));
  const script = new Script(Module.wrap(bytes.toString('utf8')), {
    filename: file,
    cachedData: matches ? cache.subarray(HEADER_BYTES) : undefined,
  });
  return {
    script,
    cacheUsed: matches && script.cachedDataRejected === false,
    run() {
      const module = new Module(file);
      module.filename = file;
      const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
      wrapper.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
      module.loaded = true;
      return module.exports;
    },
    cacheBytes: () => Buffer.concat([header, script.createCachedData()]),
  };
}

/** A bundle's exports: through its code cache when the build left one that fits, else by `require`. */
export function loadBundle(file: string): unknown {
  let cache: Buffer;
  try {
    cache = readFileSync(codeCacheFile(file));
  } catch {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a bundle found at run time, not bundled in
    return require(file);
  }
  return compileBundle(file, cache).run();
}
