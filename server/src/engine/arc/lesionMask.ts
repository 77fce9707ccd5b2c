/**
 * A mask's lesion voxels (scaled value > 0, as arc-meshchop binarises with `mask > 0`) as one
 * bit per voxel in file order (x fastest), collected while the voxels stream past. Bounded by
 * MAX_MODELLED_VOXELS: 64 MiB of bits at most, whatever the header declares.
 */
import { ElementType, positiveRunCounter, Scaling } from '../numpy/elements';
import { FormatError } from '../io/source';

/** Voxels of a mask the preprocessing model holds (2^29: a 812³ volume, 64 MiB of bits). */
export const MAX_MODELLED_VOXELS = 2 ** 29;

export interface LesionMask {
  /** The file array's shape (3-D). */
  shape: [number, number, number];
  /** Bit (x + nx (y + ny z)) set for a lesion voxel. */
  bits: Uint32Array;
  count: number;
  /** Bounding box of the lesion voxels in file indices (inclusive); undefined when empty. */
  min?: [number, number, number];
  max?: [number, number, number];
}

/** Calls `visit` with the file indices of every lesion voxel, in file order. */
export function forEachVoxel(mask: LesionMask, visit: (x: number, y: number, z: number) => void): void {
  const [nx, ny] = mask.shape;
  const { bits } = mask;
  for (let w = 0; w < bits.length; w++) {
    let word = bits[w];
    while (word !== 0) {
      const bit = 31 - Math.clz32(word & -word);
      word &= word - 1;
      const i = w * 32 + bit;
      const x = i % nx;
      const rest = (i - x) / nx;
      const y = rest % ny;
      visit(x, y, (rest - y) / ny);
    }
  }
}

/** Streams element bytes (arbitrary chunking) into a LesionMask of the first 3-D volume. */
export class LesionCollector {
  private readonly bits: Uint32Array;
  private readonly positive: (bytes: Uint8Array, start: number, count: number) => number;
  private readonly carry: Uint8Array;
  private carried = 0;
  private index = 0;
  private count = 0;
  private readonly voxels: number;

  constructor(
    private readonly type: ElementType,
    readonly shape: [number, number, number],
    scaling?: Scaling,
  ) {
    this.voxels = shape[0] * shape[1] * shape[2];
    if (!(this.voxels <= MAX_MODELLED_VOXELS))
      throw new FormatError(
        `${this.voxels} voxels, more than the ${MAX_MODELLED_VOXELS} the preprocessing model holds`,
      );
    this.bits = new Uint32Array(Math.ceil(this.voxels / 32));
    this.positive = positiveRunCounter(type, scaling);
    this.carry = new Uint8Array(type.size);
  }

  get done(): boolean {
    return this.index >= this.voxels;
  }

  push(chunk: Uint8Array): void {
    const size = this.type.size;
    let at = 0;
    if (this.carried > 0) {
      const take = Math.min(size - this.carried, chunk.length);
      this.carry.set(chunk.subarray(0, take), this.carried);
      this.carried += take;
      at = take;
      if (this.carried < size) return;
      this.carried = 0;
      this.add(this.carry, 0, 1);
    }
    const whole = Math.min(Math.floor((chunk.length - at) / size), this.voxels - this.index);
    this.add(chunk, at, whole);
    at += whole * size;
    if (at < chunk.length && !this.done) {
      this.carry.set(chunk.subarray(at, at + size), 0);
      this.carried = Math.min(size, chunk.length - at);
    }
  }

  private add(bytes: Uint8Array, start: number, elements: number): void {
    const size = this.type.size;
    // Masks are mostly zeros: blocks without a positive voxel are skipped in one counter call.
    const BLOCK = 64;
    for (let done = 0; done < elements && this.index < this.voxels;) {
      const n = Math.min(BLOCK, elements - done, this.voxels - this.index);
      const from = start + done * size;
      if (this.positive(bytes, from, n) > 0) {
        for (let k = 0; k < n; k++) {
          if (this.positive(bytes, from + k * size, 1) > 0) {
            const i = this.index + k;
            this.bits[i >>> 5] |= 1 << (i & 31);
            this.count++;
          }
        }
      }
      this.index += n;
      done += n;
    }
  }

  result(): LesionMask {
    const mask: LesionMask = { shape: this.shape, bits: this.bits, count: this.count };
    if (this.count === 0) return mask;
    const min: [number, number, number] = [Infinity, Infinity, Infinity];
    const max: [number, number, number] = [-1, -1, -1];
    forEachVoxel(mask, (x, y, z) => {
      const c = [x, y, z];
      for (let k = 0; k < 3; k++) {
        if (c[k] < min[k]) min[k] = c[k];
        if (c[k] > max[k]) max[k] = c[k];
      }
    });
    return { ...mask, min, max };
  }
}
