/**
 * A shard's Parquet footer in one request for a typical footer: the last FOOTER_FETCH bytes
 * (pyarrow's ARC footers are ~9.2 KB), a second request only when the footer is longer. The
 * length the footer claims is bounded relative to the shard before anything is requested, so
 * a footer claiming 4 GB of metadata fails at once instead of being downloaded.
 */
import { FileMetaData, parquetMetadata } from 'hyparquet';

/** First read from a shard's end: holds a typical footer (9.2 KB) with room to spare. */
export const FOOTER_FETCH = 16 * 1024;

/** Longest metadata accepted for a shard of `size` bytes: an eighth of it, within 1–64 MiB. */
export function maxMetadataBytes(size: number): number {
  return Math.min(64 * 1024 * 1024, Math.max(1024 * 1024, Math.floor(size / 8)));
}

/** Not a Parquet file (or not one this download can read): a property of the data, not of the network. */
export class NotParquet extends Error {}

export async function readFooter(
  read: (start: number, end: number) => Promise<Uint8Array>,
  size: number,
): Promise<FileMetaData> {
  if (size < 12) throw new NotParquet(`${size} bytes, too short for a Parquet file`);
  const tailStart = Math.max(0, size - FOOTER_FETCH);
  let tail = await read(tailStart, size);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  if (view.getUint32(tail.length - 4, true) !== 0x31524150)
    throw new NotParquet('it does not end with the Parquet magic bytes "PAR1"');
  const metadataLength = view.getUint32(tail.length - 8, true);
  if (metadataLength > size - 12)
    throw new NotParquet(
      `its footer claims ${metadataLength} bytes of metadata, more than the file's ${size} bytes hold`,
    );
  const max = maxMetadataBytes(size);
  if (metadataLength > max)
    throw new NotParquet(
      `its footer claims ${metadataLength} bytes of metadata, more than the ${max} accepted for a ${size}-byte shard`,
    );
  const needed = metadataLength + 8;
  if (needed > tail.length) {
    const head = await read(size - needed, tailStart);
    const joined = new Uint8Array(needed);
    joined.set(head, 0);
    joined.set(tail, head.length);
    tail = joined;
  }
  try {
    return parquetMetadata(tail.subarray(tail.length - needed));
  } catch (error) {
    throw new NotParquet(`its metadata cannot be read: ${(error as Error).message}`);
  }
}

/** Largest column chunk read (one T2w run is ~10 MB); a footer claiming more is not believed. */
export const MAX_COLUMN_CHUNK = 512 * 1024 * 1024;

/**
 * Every chunk of `columns` lies inside the file, before the footer, and is at most
 * MAX_COLUMN_CHUNK: a footer that says otherwise makes no request at all.
 */
export function checkColumnChunks(metadata: FileMetaData, size: number, columns: string[]): void {
  const dataEnd = size - 8 - metadata.metadata_length;
  for (const [g, group] of metadata.row_groups.entries()) {
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (!meta || !columns.includes(meta.path_in_schema[0])) continue;
      const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
      const length = Number(meta.total_compressed_size);
      const name = `column chunk ${meta.path_in_schema.join('.')} of row group ${g}`;
      if (!(start >= 4 && length >= 0 && start + length <= dataEnd))
        throw new NotParquet(
          `its ${name} claims bytes ${start}-${start + length - 1}, outside the file's ${dataEnd} data bytes`,
        );
      if (length > MAX_COLUMN_CHUNK)
        throw new NotParquet(`its ${name} claims ${length} bytes, more than the ${MAX_COLUMN_CHUNK} accepted`);
    }
  }
}
