/**
 * The picture a hover asks for, as Markdown: the image and, under it, a caption saying what it
 * shows and at what scale. The category bar is drawn at once; label traces and lesion slices
 * come from the workers, cached by fingerprint in the inspector.
 */
import { categoryBar, labelTraceImage, pngDataUri } from '../engine/pictures';
import { formatPercent } from '../engine/units';
import type { PictureRequest } from './hover';
import type { CacheInspector } from './inspector';

const number = (n: number) => n.toLocaleString('en-US');
const round = (n: number) => Number(n.toPrecision(3));
const caption = (text: string) => `*${text}*`;

export async function pictureMarkdown(picture: PictureRequest, inspector: CacheInspector): Promise<string | undefined> {
  if (picture.kind === 'categories') {
    const { partial, full, none } = picture;
    const total = partial + full + none;
    const share = (n: number) => (total ? formatPercent(n / total) : '0%');
    return (
      `![windows per category](${pngDataUri(categoryBar(picture))})\n\n` +
      caption(
        `All ${number(total)} windows: partial (orange) ${share(partial)} · full (red) ${share(full)} · no seizure (grey) ${share(none)}`,
      )
    );
  }
  if (picture.kind === 'trace') {
    const trace = await inspector.labelTrace(picture.file);
    if (!trace || picture.window >= trace.windows) return undefined;
    const fractions = trace.counts
      .slice(picture.window * trace.bins, (picture.window + 1) * trace.bins)
      .map((c) => c / trace.samplesPerBin);
    const samples = trace.bins * trace.samplesPerBin;
    return (
      `![seizure labels of window ${picture.window}](${pngDataUri(labelTraceImage(fractions))})\n\n` +
      caption(
        `Seizure labels through window ${picture.window}, start to end: its ${number(samples)} label samples in ${number(trace.bins)} columns of ${number(trace.samplesPerBin)}; ` +
          'red height = share of samples > 0',
      )
    );
  }
  const [png, training] = await Promise.all([
    inspector.lesionPicture(picture.mask, picture.image),
    inspector.trainingPicture(picture.mask, picture.image, picture.method),
  ]);
  if (!png) return undefined;
  const [width, height] = picture.grid;
  const [dx, dy] = picture.voxelSize;
  const field = dx && dy ? `, ${round(width * dx)} × ${round(height * dy)} mm` : '';
  const beside = training ? ` ![the same lesion in the training grid](data:image/png;base64,${training})` : '';
  return (
    `![axial slice with the largest lesion area](data:image/png;base64,${png})${beside}\n\n` +
    caption(
      `Axial slice with the most lesion voxels: lesion in red over the T2w image (grey, 1st–99th percentile); ${width} × ${height} voxels${field}`,
    ) +
    (training
      ? ' ' +
        caption(
          `Right: what the network is fed with ${picture.method}, the 256³ 1 mm training grid's slice with the most lesion voxels: the preprocessed mask (exact) over the image resampled nearest-neighbour`,
        )
      : '')
  );
}
