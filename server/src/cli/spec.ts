/**
 * The `neurocache` commands and options in one table: the parser's configuration, every help
 * text and every usage error are made from it, so they cannot drift apart.
 */
import { parseArgs } from 'node:util';
import { ARC_DOWNLOAD_DEFAULTS, describeRange, inRange, NUMBER_OPTIONS, NumberRange, BUILD_EXCLUDE } from '../protocol';
import { editDistance } from '../engine/editDistance';

export interface OptionSpec {
  name: string;
  /** Placeholder of the value (`N`, `DIR`); absent for a flag. */
  value?: string;
  /** May be given more than once (values collected in order). */
  multiple?: boolean;
  help: string;
  /** A number option's range (the setting's row in NUMBER_OPTIONS): its validation and the default its help shows. */
  range?: NumberRange;
  /** What the help says of the default instead of "default <range.default>"; '' says nothing. */
  defaultHelp?: string;
}

export interface CommandSpec {
  /** As typed: `check`, `manifest build`. */
  name: string;
  /** Positional arguments, as shown in the synopsis. */
  args: string;
  summary: string;
  /** Paragraphs after the synopsis. */
  description: string[];
  options: OptionSpec[];
}

const JSON_OPTION: OptionSpec = { name: 'json', help: 'machine-readable output on stdout' };
const JOBS_OPTION: OptionSpec = {
  name: 'jobs',
  value: 'N',
  help: 'worker threads that inflate and count',
  // The setting's 0 (one per core) is what leaving the option out means.
  range: { ...NUMBER_OPTIONS.maxWorkers, minimum: 1 },
  defaultHelp: 'default: number of cores',
};
const READS_OPTION: OptionSpec = {
  name: 'reads-in-flight',
  value: 'N',
  help: 'cache files read at once, independent of --jobs; on network storage each read is a round trip, so more hide more latency',
  range: NUMBER_OPTIONS['io.readsInFlight'],
};
const CACHE_DIR_OPTION: OptionSpec = {
  name: 'cache-dir',
  value: 'DIR',
  help: 'where file fingerprints are kept (default: $NEUROCACHE_CACHE_DIR, $XDG_CACHE_HOME/neurocache or ~/.cache/neurocache)',
};
const READER_OPTIONS = [JOBS_OPTION, READS_OPTION, CACHE_DIR_OPTION];
/** `--exclude GLOB`: cache files the build leaves out on purpose (engine/eeg/buildExclude.ts), on top of .neurocache.json's. */
const EXCLUDE_OPTION: OptionSpec = {
  name: BUILD_EXCLUDE.flag.slice(2),
  value: 'GLOB',
  multiple: true,
  help: 'leave cache files matching GLOB out of the manifest on purpose (a file name, or with a / a path relative to the current directory; repeatable)',
};
const RESAMPLE_OPTION: OptionSpec = {
  name: 'resample-method',
  value: 'M',
  help: 'ARC: the --resample-method arc-meshchop train uses, scipy_zoom (default) or nibabel_conform; what preprocessing does under it is an error',
};
const CV_OPTIONS: OptionSpec[] = [
  {
    name: 'cv-seed',
    value: 'N',
    help: 'ARC cross-validation: StratifiedKFold random_state',
    range: NUMBER_OPTIONS['cv.seed'],
    defaultHelp: `default ${NUMBER_OPTIONS['cv.seed'].default}, as arc-meshchop`,
  },
  {
    name: 'outer-folds',
    value: 'N',
    help: 'ARC cross-validation: outer folds',
    range: NUMBER_OPTIONS['cv.outerFolds'],
  },
  {
    name: 'inner-folds',
    value: 'N',
    help: 'ARC cross-validation: inner folds per outer training set',
    range: NUMBER_OPTIONS['cv.innerFolds'],
  },
];

export const COMMANDS: CommandSpec[] = [
  {
    name: 'manifest build',
    args: '<cache_dir>',
    summary: 'write cache_dir/manifest.json exactly as the Python builder would',
    description: [
      "Reads every *.npz directly in cache_dir (sorted by name), files each window as partial, full or no seizure, and writes manifest.json atomically, byte for byte what brain-go-brr-v2's scan_existing_cache writes.",
      'Files the Python builder leaves out (no labels, unreadable) are listed on stderr with what Python does with them, including where its build would stop.',
      `Files excluded on purpose (--exclude, and "build": {"exclude": [...]} in the nearest .neurocache.json, patterns relative to its folder) are left out and listed, with the windows by which the manifest then differs from Python's.`,
    ],
    options: [
      EXCLUDE_OPTION,
      {
        name: 'allow-empty',
        help: 'write an empty manifest when cache_dir holds no *.npz (otherwise nothing is written and the exit code is 1)',
      },
      // The build's main thread counts too (manifestBuild.ts), so it starts one thread fewer.
      { ...JOBS_OPTION, defaultHelp: 'default: number of cores − 1' },
      READS_OPTION,
      CACHE_DIR_OPTION,
      JSON_OPTION,
    ],
  },
  {
    name: 'check',
    args: '<file.json|dir>...',
    summary: 'report problems in manifest.json, _dataset_index.json and dataset_info.json files',
    description: [
      "Detects what each file is and prints path:line:col: severity code: message (codes: docs/diagnostics.md). A directory is searched for manifest.json, _dataset_index.json and dataset_info.json files that are NeuroCache's. Exit 1 when any error is found.",
      `Severities come from the nearest .neurocache.json above each file ({"diagnostics": {"severity": {"no-labels": "off"}}}), then from --severity, as in the editor.`,
    ],
    options: [
      { name: 'no-content', help: 'check schema and file existence only; do not read labels or masks' },
      {
        name: 'deep',
        help: "EEG: also inflate every listed cache file's windows and report NaN/Inf and values beyond ±10 (remembered by fingerprint)",
      },
      {
        name: 'severity',
        value: 'CODE=LEVEL',
        multiple: true,
        help: 'show CODE as LEVEL: off, hint, information, warning or error (repeatable)',
      },
      {
        ...EXCLUDE_OPTION,
        help: 'a cache file the build leaves out on purpose: not reported as missing from the manifest (as manifest build --exclude; repeatable)',
      },
      ...CV_OPTIONS,
      RESAMPLE_OPTION,
      ...READER_OPTIONS,
      JSON_OPTION,
    ],
  },
  {
    name: 'stats',
    args: '<file.json>',
    summary: 'print the statistics the editor hover shows',
    description: [
      'For a manifest: windows per category, raw and balanced seizure ratio, pos_weight and the exact balanced composition training builds for the seed. For a dataset index: files and windows. For dataset_info.json: samples, acquisitions, lesion-volume quartiles, the paper-cohort verdict and, with --folds, the cross-validation folds.',
    ],
    options: [
      {
        name: 'seed',
        value: 'N',
        help: 'training seed for numpy.random.default_rng',
        range: NUMBER_OPTIONS['training.seed'],
      },
      {
        name: 'full-ratio',
        value: 'R',
        help: 'full-seizure windows per partial window',
        range: NUMBER_OPTIONS['training.fullRatio'],
      },
      {
        name: 'background-ratio',
        value: 'R',
        help: 'no-seizure windows per partial window',
        range: NUMBER_OPTIONS['training.backgroundRatio'],
      },
      { name: 'selected', help: 'list the entries training picks for the seed' },
      {
        name: 'deep',
        help: "EEG: also inflate every listed cache file's windows; --json lists each file's bad windows",
      },
      { name: 'folds', help: 'ARC: the nested cross-validation folds arc-meshchop train draws' },
      {
        name: 'preprocessing',
        help: "ARC: per sample, the lesion voxels preprocess_volume keeps with each resample method (reads the masks and the images' headers)",
      },
      ...CV_OPTIONS,
      RESAMPLE_OPTION,
      ...READER_OPTIONS,
      JSON_OPTION,
    ],
  },
  {
    name: 'arc download',
    args: '',
    summary: 'download the ARC dataset from the Hugging Face Hub (only the needed Parquet columns)',
    description: [
      'Writes DIR/cache/nifti_cache/*.nii.gz unchanged and DIR/dataset_info.json last; resumes an interrupted run. Endpoint from --endpoint, HF_ENDPOINT or huggingface.co; token from --token, HF_TOKEN, HUGGING_FACE_HUB_TOKEN or the file at HF_TOKEN_PATH (default $HF_HOME/token; sent only to the endpoint, never printed). HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE (1/ON/YES/TRUE) forbids the network.',
    ],
    options: [
      { name: 'out', value: 'DIR', help: `output folder (default ${ARC_DOWNLOAD_DEFAULTS.out})` },
      { name: 'repo', value: 'ID', help: `dataset repository (default ${ARC_DOWNLOAD_DEFAULTS.repo})` },
      { name: 'revision', value: 'REV', help: `branch, tag or commit (default ${ARC_DOWNLOAD_DEFAULTS.revision})` },
      { name: 'endpoint', value: 'URL', help: 'Hub endpoint' },
      {
        name: 'token',
        value: 'TOKEN',
        help: 'Hugging Face token (prefer HF_TOKEN: a command line is visible to other users)',
      },
      { name: 'parallel', value: 'N', help: 'shards fetched at once', range: NUMBER_OPTIONS['download.parallel'] },
      {
        name: 'jobs',
        value: 'N',
        help: 'the same as --parallel (older name)',
        range: NUMBER_OPTIONS['download.parallel'],
        defaultHelp: '',
      },
      { name: 'force', help: 'download and rewrite everything, even a complete or resumable download' },
      { name: 'paper-parity', help: 'verify the paper cohort: 223 = 115 SPACE 2x + 108 SPACE no-accel' },
      { name: 'include-tse', help: 'also keep turbo-spin-echo sessions' },
      { name: 'no-require-mask', help: 'also keep sessions without a lesion mask' },
      { name: 'no-verify-counts', help: 'with --paper-parity: report the counts without failing on them' },
      JSON_OPTION,
    ],
  },
  {
    name: 'lsp',
    args: '--stdio',
    summary: 'run the language server over stdio (for Neovim, Helix, Emacs, ...)',
    description: ['Speaks LSP on stdin/stdout until the client sends exit.'],
    options: [
      { name: 'stdio', help: 'talk LSP over stdin and stdout (required)' },
      { name: 'clientProcessId', value: 'PID', help: 'end when this process ends (passed by some LSP clients)' },
    ],
  },
];

/** A mistake in how the command was called: exit 2 with a pointer to the help. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: CommandSpec,
  ) {
    super(message);
  }
}

const optionLabel = (o: OptionSpec) => `--${o.name}${o.value ? ` ${o.value}` : ''}`;

/** The option's help line, with its default. */
function optionHelp(o: OptionSpec): string {
  const shown = o.defaultHelp ?? (o.range ? `default ${o.range.default}` : '');
  return shown ? `${o.help} (${shown})` : o.help;
}

/**
 * The value of a number option (undefined when absent), checked against its range: a usage
 * error says what it takes, e.g. `--parallel takes a whole number from 1 to 64, not "0"`.
 */
export function numberValue({ command, values }: ParsedOptions, name: string): number | undefined {
  const option = command.options.find((o) => o.name === name);
  if (!option?.range) throw new Error(`${command.name} has no number option --${name}`);
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !inRange(option.range, value))
    throw new UsageError(`--${name} takes ${describeRange(option.range)}, not "${raw}"`, command);
  return value;
}

function columns(rows: [string, string][], indent = '  '): string {
  const width = Math.min(28, Math.max(...rows.map(([left]) => left.length)));
  return rows
    .map(([left, right]) =>
      left.length > width
        ? `${indent}${left}\n${indent}${' '.repeat(width + 2)}${right}`
        : `${indent}${left.padEnd(width)}  ${right}`,
    )
    .join('\n');
}

export function synopsis(command: CommandSpec): string {
  return `neurocache ${command.name}${command.args ? ` ${command.args}` : ''} [options]`;
}

export function commandHelp(command: CommandSpec): string {
  const options = columns([
    ...command.options.map((o): [string, string] => [optionLabel(o), optionHelp(o)]),
    ['-h, --help', 'show this help'],
  ]);
  return `Usage: ${synopsis(command)}\n\n${command.summary[0].toUpperCase()}${command.summary.slice(1)}.\n\n${command.description.map((p) => wrap(p)).join('\n\n')}\n\nOptions:\n${options}\n`;
}

export function generalHelp(version: string): string {
  return (
    `neurocache ${version} — builds and validates EEG seizure manifests, EEG dataset indexes and ARC dataset_info.json files exactly as the Python training code reads them.\n\n` +
    `Usage: neurocache <command> [options]\n\nCommands:\n${columns(COMMANDS.map((c) => [c.name, c.summary]))}\n\n` +
    `Options:\n${columns([
      ['-h, --help', 'show help (neurocache <command> --help for a command)'],
      ['-V, --version', 'print the version'],
    ])}\n\n` +
    'Exit codes: 0 fine, 1 errors found (or the job failed), 2 bad usage or unreadable input.\n'
  );
}

/** Commands of a group (`manifest`, `arc`): their first word. */
export function commandsInGroup(word: string): CommandSpec[] {
  return COMMANDS.filter((c) => c.name.startsWith(`${word} `));
}

/** `neurocache manifest --help`: the group's subcommands. */
export function groupHelp(word: string): string {
  const members = commandsInGroup(word);
  return `Usage: neurocache ${word} <subcommand> [options]\n\nSubcommands:\n${columns(members.map((c) => [c.name, c.summary]))}\n\nRun "neurocache ${members[0].name} --help" for its options.\n`;
}

/** The command (or group) nearest to a mistyped first word, for "did you mean". */
export function nearestCommand(word: string): string | undefined {
  const names = [...new Set(COMMANDS.map((c) => c.name.split(' ')[0]))];
  return names.find((n) => editDistance(n, word) <= 2 || (word.length >= 3 && n.startsWith(word)));
}

/** The command's name from the first words of argv (`manifest build`, `check`), if any. */
export function findCommand(argv: string[]): { command: CommandSpec; rest: string[] } | undefined {
  for (const command of COMMANDS) {
    const words = command.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { command, rest: argv.slice(words.length) };
  }
  return undefined;
}

/** The words that ask for help. */
export const HELP = new Set(['--help', '-h']);

/** --help anywhere before a `--` asks for the command's help, whatever else is there. */
export function asksForHelp(rest: string[]): boolean {
  const end = rest.indexOf('--');
  return rest.slice(0, end < 0 ? undefined : end).some((a) => HELP.has(a));
}

export type ParsedOptions = {
  command: CommandSpec;
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
};

/**
 * Parses a command's arguments against its table. Node's parser messages (which quote
 * internals such as "To specify a positional argument starting with a '-'") never reach the
 * user: each kind of mistake gets a sentence of our own.
 */
export function parseCommand(command: CommandSpec, args: string[]): ParsedOptions {
  const options = Object.fromEntries(
    command.options.map((o) => [
      o.name,
      { type: o.value ? ('string' as const) : ('boolean' as const), multiple: o.multiple === true },
    ]),
  );
  try {
    return { command, ...parseArgs({ args, options, allowPositionals: true, strict: true }) };
  } catch (error) {
    throw new UsageError(describeParseError(command, args, error as NodeJS.ErrnoException), command);
  }
}

function describeParseError(command: CommandSpec, args: string[], error: NodeJS.ErrnoException): string {
  const mentioned = (error.message.match(/'(-{1,2}[^' ]+)/) ?? [])[1];
  const option = command.options.find((o) => mentioned === `--${o.name}`);
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const name = mentioned ?? args.find((a) => a.startsWith('-')) ?? '';
      const bare = name.replace(/^-+/, '').split('=')[0];
      const near = command.options.find((o) => editDistance(o.name, bare) <= 2 || o.name.startsWith(bare));
      return `${command.name} has no option ${name}${near ? ` (did you mean --${near.name}?)` : ''}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      // `--seed -1`: the parser takes "-1" for an option; what is wrong is the value's sign (no option takes a negative number).
      const next = option ? args[args.indexOf(`--${option.name}`) + 1] : undefined;
      if (option?.value && next !== undefined && /^-\d/.test(next))
        return `--${option.name} cannot be negative ("${next}"): ${option.help}`;
      return option?.value
        ? `--${option.name} needs a value: ${optionLabel(option)}`
        : `--${option?.name ?? mentioned} takes no value`;
    }
    default:
      return `${command.name}: cannot read the arguments ${JSON.stringify(args.join(' '))}`;
  }
}

/** Breaks a paragraph into lines of at most `width` characters. */
function wrap(text: string, width = 96): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}
