/**
 * The NIfTI viewer's page: NiiVue (WebGL2) with three planes and a 3-D render, the lesion mask
 * in red over the T2w image, opacity and slice controls and the crosshair in voxels and mm.
 * Without WebGL2, or when NiiVue cannot start, the server's own axial slice pictures (with the
 * overlay) and a slice slider instead: never a blank page. It names no file.
 */
import { Niivue, NVImage, SHOW_RENDER } from '@niivue/niivue';
import type { NiftiViewAsk, NiftiViewTell, TrainingGridInfo } from '../src/views/messages';
import type { NiftiPairRequest, SlicePictureRequest } from '../../server/src/protocol';
import { bytesInWords, clear, element, vscodeApi } from './dom';

const vscode = vscodeApi<NiftiViewAsk>();
const app = document.getElementById('app')!;
let pair: NiftiPairRequest.Result | undefined;
let fallback = false;

/** WebGL2 as NiiVue needs it (some remote browsers and GPU-less machines have none). */
function hasWebGl2(): boolean {
  try {
    return !!document.createElement('canvas').getContext('webgl2');
  } catch {
    return false;
  }
}

window.addEventListener('message', (event: MessageEvent<NiftiViewTell>) => {
  const message = event.data;
  if (message.type === 'pair') {
    pair = message.pair;
    renderHeader(message.pair, message.grid);
  } else if (message.type === 'volumes') void showVolumes(message.image, message.mask, message.errors);
  else if (message.type === 'slice') showSlice(message.picture);
  else if (message.type === 'failed') app.append(element('p', { class: 'error', id: 'failed' }, message.message));
});
const webgl2 = hasWebGl2();
vscode.postMessage({ type: 'ready', webgl2 });

function renderHeader(p: NiftiPairRequest.Result, grid: TrainingGridInfo): void {
  clear(app);
  app.dataset.state = 'loading';
  const names = [
    p.image && `image ${p.image.name} (${bytesInWords(p.image.size)})`,
    p.mask && `lesion mask ${p.mask.name} (${bytesInWords(p.mask.size)})`,
  ]
    .filter(Boolean)
    .join(' · ');
  app.append(
    element('h1', {}, p.image?.name ?? p.mask?.name ?? 'NIfTI'),
    element('p', { class: 'muted', id: 'pair' }, `${names}; ${p.how}`),
  );
  if (p.error) {
    app.dataset.state = 'failed';
    app.append(element('p', { class: 'error', id: 'failure' }, p.error));
    return;
  }
  const toggle = element('input', { type: 'checkbox', id: 'grid-toggle' });
  toggle.disabled = !grid.available;
  app.append(
    element('p', { class: 'muted', id: 'grid' }, element('label', { title: grid.message }, toggle, ` ${grid.message}`)),
  );
  if (!webgl2)
    app.append(
      element(
        'p',
        { class: 'warning', id: 'no-webgl' },
        "This browser has no WebGL2: showing NeuroCache's own axial slice pictures instead of the 3-D viewer.",
      ),
    );
}

async function showVolumes(
  image: Uint8Array | undefined,
  mask: Uint8Array | undefined,
  errors: string[],
): Promise<void> {
  for (const e of errors) app.append(element('p', { class: 'error' }, e));
  if (!image && !mask) return;
  const controls = element('div', { class: 'controls', id: 'controls' });
  // NiiVue sizes its canvas to the canvas's parent: a box of its own, below the controls.
  const canvas = element('canvas', { id: 'gl' });
  const box = element('div', { id: 'gl-box' }, canvas);
  const coords = element('p', { id: 'coords', class: 'muted' }, 'Click a plane to move the crosshair.');
  app.append(controls, box, coords);
  try {
    const nv = new Niivue({
      backColor: [0, 0, 0, 1],
      crosshairColor: [0.2, 0.8, 1, 1],
      show3Dcrosshair: true,
      isColorbar: false,
      dragAndDropEnabled: false,
      multiplanarShowRender: SHOW_RENDER.ALWAYS,
      loadingText: '',
    });
    await nv.attachToCanvas(canvas);
    nv.setCrosshairWidth(1);
    // Nearest-neighbour: voxels as they are, so a lesion's edge is where the mask says.
    nv.setInterpolation(true);
    const newImage = NVImage.new as unknown as (
      data: ArrayBuffer,
      name: string,
      colormap: string,
      opacity: number,
    ) => Promise<NVImage>;
    const base = image ?? mask!;
    nv.addVolume(
      await newImage(toArrayBuffer(base), (image ? pair?.image?.name : pair?.mask?.name) ?? 'image.nii.gz', 'gray', 1),
    );
    if (image && mask) nv.addVolume(await newImage(toArrayBuffer(mask), pair?.mask?.name ?? 'mask.nii.gz', 'red', 0.5));
    nv.setSliceType(nv.sliceTypeMultiplanar);
    const volume = nv.volumes[0];
    const dims = (volume.hdr?.dims ?? [3, 1, 1, 1]).slice(1, 4);
    nv.onLocationChange = (location: unknown) => {
      const l = location as { vox: number[]; mm: number[] };
      const vox = Array.from(l.vox)
        .slice(0, 3)
        .map((v) => Math.round(v));
      const mm = Array.from(l.mm)
        .slice(0, 3)
        .map((v) => v.toFixed(1));
      coords.dataset.vox = vox.join(',');
      coords.textContent = `Crosshair: voxel (${vox.join(', ')}) of ${dims.join(' × ')} · ${mm.join(', ')} mm`;
      sliders.forEach((s, axis) => (s.value = String(vox[axis])));
    };
    const sliders = ['x', 'y', 'z'].map((axis, a) => {
      const slider = element('input', {
        type: 'range',
        min: '0',
        max: String(Math.max(0, dims[a] - 1)),
        step: '1',
        id: `slice-${axis}`,
        'aria-label': `${axis} voxel`,
      });
      slider.addEventListener('input', () =>
        moveTo(
          nv,
          sliders.map((s) => Number(s.value)),
        ),
      );
      controls.append(element('label', {}, `${axis} `, slider));
      return slider;
    });
    if (image && mask) {
      const opacity = element('input', {
        type: 'range',
        min: '0',
        max: '1',
        step: '0.05',
        value: '0.5',
        id: 'opacity',
        'aria-label': 'lesion opacity',
      });
      opacity.addEventListener('input', () => nv.setOpacity(1, Number(opacity.value)));
      controls.append(element('label', {}, 'lesion opacity ', opacity));
    }
    // Start where the lesion is, so that all three planes cut through it.
    moveTo(nv, image && mask ? lesionCentre(nv.volumes[1], dims) : dims.map((d) => Math.floor(d / 2)));
    app.dataset.state = 'ready';
    app.dataset.renderer = 'niivue';
  } catch (error) {
    box.remove();
    controls.remove();
    coords.remove();
    app.append(
      element(
        'p',
        { class: 'warning' },
        `The 3-D viewer could not start (${(error as Error).message}): showing NeuroCache's own slice pictures.`,
      ),
    );
    vscode.postMessage({ type: 'fallback', reason: (error as Error).message });
  }
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : (bytes.slice().buffer as ArrayBuffer);
}

function moveTo(nv: Niivue, vox: number[]): void {
  nv.scene.crosshairPos = nv.vox2frac(vox as unknown as Parameters<Niivue['vox2frac']>[0]);
  nv.drawScene();
  nv.createOnLocationChange();
}

/** The mean voxel of the mask's voxels > 0 (the middle of the volume when there are none). */
function lesionCentre(mask: NVImage, dims: number[]): number[] {
  const img = mask.img as ArrayLike<number> | undefined;
  const sum = [0, 0, 0];
  let n = 0;
  if (img) {
    const [nx, ny] = dims;
    for (let i = 0; i < img.length && i < nx * ny * dims[2]; i++) {
      if (!(img[i] > 0)) continue;
      sum[0] += i % nx;
      sum[1] += Math.floor(i / nx) % ny;
      sum[2] += Math.floor(i / (nx * ny));
      n++;
    }
  }
  return n ? sum.map((s) => Math.round(s / n)) : dims.map((d) => Math.floor(d / 2));
}

function showSlice(picture: SlicePictureRequest.Result): void {
  if (!picture.ok) {
    app.append(element('p', { class: 'error', id: 'failure' }, picture.error));
    return;
  }
  let section = document.getElementById('fallback');
  if (!section) {
    fallback = true;
    section = element('section', { id: 'fallback' });
    const slider = element('input', {
      type: 'range',
      min: '0',
      max: String(Math.max(0, picture.depth - 1)),
      step: '1',
      value: String(picture.z),
      id: 'fallback-z',
      'aria-label': 'axial slice',
    });
    slider.addEventListener('change', () => vscode.postMessage({ type: 'slice', z: Number(slider.value) }));
    section.append(
      element('div', { class: 'controls' }, element('label', {}, 'axial slice ', slider)),
      element('img', { id: 'fallback-picture', alt: 'axial slice' }),
      element('p', { class: 'muted', id: 'fallback-caption' }),
    );
    app.append(section);
  }
  const img = document.getElementById('fallback-picture') as HTMLImageElement;
  img.src = `data:image/png;base64,${picture.png}`;
  section.dataset.z = String(picture.z);
  const withMask = pair?.image && pair.mask ? '; lesion in red' : '';
  document.getElementById('fallback-caption')!.textContent =
    `Axial slice ${picture.z} of ${picture.depth} (${picture.width} × ${picture.height} voxels), grey 1st–99th percentile${withMask}`;
  app.dataset.state = 'ready';
  app.dataset.renderer = fallback ? 'pictures' : 'niivue';
}
