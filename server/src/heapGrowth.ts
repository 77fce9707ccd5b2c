/**
 * The language server's V8 heap grows in small steps (`--optimize-for-size`): a server holds one
 * large document for hours, and V8's default growth let garbage pile up between full collections
 * far beyond what the server keeps (forced full collections showed the same session's peak at 350
 * MB). Measured on the bench's 1M-entry manifest (88 MB) in a first session (the build's
 * fingerprints, pictures rendered as hovered), runs with and without it interleaved: peak RSS
 * 341-365 MB against 423-444; first diagnostics 1.84-2.09 s against 1.85-1.97 (alike within the
 * machine's drift); the full content check 3.8-4.4 s against 2.6-3.6; hover p95 while typing
 * 5.8-6.5 ms against 3.3-5.3; the first picture hover 180-240 ms against 106-152 (its worker runs
 * under the same flag: V8's flags are the process's). `--heap-growing-percent=20` alone saved less
 * (371 MB) at the same cost. Set as the process starts, before its heap has grown: set after the
 * first check instead, it changed nothing (423-425 MB).
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--optimize-for-size');
