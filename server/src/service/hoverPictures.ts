/**
 * The picture a hover asks for, as a Markdown image: the category bar is drawn at once; label
 * traces and lesion slices come from the workers, cached by fingerprint in the inspector.
 */
import { categoryBar, labelTraceImage, pngDataUri } from '../engine/pictures';
import type { PictureRequest } from './hover';
import type { CacheInspector } from './inspector';

export async function pictureMarkdown(picture: PictureRequest, inspector: CacheInspector): Promise<string | undefined> {
  if (picture.kind === 'categories') {
    return `![partial / full / no seizure](${pngDataUri(categoryBar(picture))}) partial · full · no seizure`;
  }
  if (picture.kind === 'trace') {
    const trace = await inspector.labelTrace(picture.file);
    if (!trace || picture.window >= trace.windows) return undefined;
    const fractions = trace.counts.slice(picture.window * trace.bins, (picture.window + 1) * trace.bins).map((c) => c / trace.samplesPerBin);
    return `![seizure labels of window ${picture.window}](${pngDataUri(labelTraceImage(fractions))})`;
  }
  const png = await inspector.lesionPicture(picture.mask, picture.image);
  return png ? `![axial slice with the largest lesion area](data:image/png;base64,${png})` : undefined;
}
