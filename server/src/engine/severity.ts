/**
 * Severity overrides: users tune a code's level or turn it off (ESLint's rules, Pylance's
 * severity overrides), the same way in the editor setting `neurocache.diagnostics.severity`,
 * the project file `.neurocache.json` and the CLI's `--severity CODE=LEVEL`, so CI and the
 * editor agree. Overrides only change how a finding is shown; what the engine found is not
 * changed (a turned-off error no longer fails `check`, which is what the user asked for).
 */
import { Diagnostic, DIAGNOSTIC_CODES, DiagnosticCode, Severity } from './diagnostics';
import { editDistance } from './editDistance';

export const SEVERITY_LEVELS = ['off', 'hint', 'information', 'warning', 'error'] as const;
export type SeverityLevel = (typeof SEVERITY_LEVELS)[number];

export type SeverityOverrides = Partial<Record<DiagnosticCode, SeverityLevel>>;

const isCode = (value: string): value is DiagnosticCode => (DIAGNOSTIC_CODES as readonly string[]).includes(value);
const isLevel = (value: unknown): value is SeverityLevel => (SEVERITY_LEVELS as readonly unknown[]).includes(value);

/** The known code nearest to a mistyped one, for "did you mean". */
export function nearestCode(typed: string): DiagnosticCode | undefined {
  let best: { code: DiagnosticCode; distance: number } | undefined;
  for (const code of DIAGNOSTIC_CODES) {
    const distance = editDistance(code, typed);
    if (distance <= Math.max(2, Math.floor(typed.length / 4)) && (!best || distance < best.distance))
      best = { code, distance };
  }
  return best?.code;
}

export interface ParsedOverrides {
  overrides: SeverityOverrides;
  /** One sentence per entry that was not used (unknown code, unknown level), naming the entry. */
  problems: string[];
}

/** Overrides from a `{code: level}` object (setting or project file); bad entries are named, not fatal. */
export function parseSeverityOverrides(raw: unknown): ParsedOverrides {
  const overrides: SeverityOverrides = {};
  const problems: string[] = [];
  if (raw === undefined || raw === null) return { overrides, problems };
  if (typeof raw !== 'object' || Array.isArray(raw))
    return { overrides, problems: ['severity overrides must be an object of "code": "level"'] };
  for (const [code, level] of Object.entries(raw)) {
    const problem = entryProblem(code, level);
    if (problem) problems.push(problem);
    else overrides[code as DiagnosticCode] = level as SeverityLevel;
  }
  return { overrides, problems };
}

/** `CODE=LEVEL` as typed on the command line; throws a sentence saying what is wrong. */
export function parseSeverityArgument(argument: string): [DiagnosticCode, SeverityLevel] {
  const equals = argument.indexOf('=');
  if (equals < 0) throw new Error(`--severity takes CODE=LEVEL (e.g. no-labels=off), not "${argument}"`);
  const code = argument.slice(0, equals).trim();
  const level = argument.slice(equals + 1).trim();
  const problem = entryProblem(code, level);
  if (problem) throw new Error(`--severity ${argument}: ${problem}`);
  return [code as DiagnosticCode, level as SeverityLevel];
}

function entryProblem(code: string, level: unknown): string | undefined {
  if (!isCode(code)) {
    const near = nearestCode(code);
    return `"${code}" is not a NeuroCache diagnostic code${near ? ` (did you mean ${near}?)` : ''}`;
  }
  if (!isLevel(level)) return `"${String(level)}" for ${code} is not one of ${SEVERITY_LEVELS.join(', ')}`;
  return undefined;
}

/** Later layers win: defaults < project file < editor setting or command line. */
export function mergeOverrides(...layers: (SeverityOverrides | undefined)[]): SeverityOverrides {
  return Object.assign({}, ...layers.filter(Boolean));
}

/** The diagnostics as the user asked to see them: levels replaced, `off` codes left out. */
export function applySeverityOverrides(diagnostics: Diagnostic[], overrides: SeverityOverrides): Diagnostic[] {
  if (Object.keys(overrides).length === 0) return diagnostics;
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    const level = overrides[d.code];
    if (level === undefined) out.push(d);
    else if (level !== 'off') out.push(level === d.severity ? d : { ...d, severity: level as Severity });
  }
  return out;
}
