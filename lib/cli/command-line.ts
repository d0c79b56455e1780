import { type ParseArgsConfig, parseArgs } from 'node:util';

/*
 * The one command-line layer of the project's programs (synth, bench, ops, bootstrap; review may join),
 * in lib/ so that bin/ and scripts/ both import it downward:
 * Node's `util.parseArgs` in strict mode, with its errors turned into one line each that names
 * the flag, and repeated options refused instead of the last one silently winning.
 */

/** A command-line mistake: the program prints the message alone and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Exit code of a usage error (as getopt-style tools use it). */
export const USAGE_EXIT_CODE = 2;

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** Option values as `util.parseArgs` returns them: strings, booleans, or absent. */
export type OptionValues = Record<string, string | boolean | undefined>;

export interface ParsedCommandLine {
  readonly values: OptionValues;
  readonly positionals: readonly string[];
}

export interface CommandLineSpec {
  /** The program or command, as the messages name it (`synth`, `ops deploy`). */
  readonly name: string;
  readonly options: OptionSpecs;
  /** Most positional arguments accepted. @default 0 */
  readonly maxPositionals?: number;
}

function optionList(options: OptionSpecs): string {
  return Object.entries(options)
    .map(([name, o]) => `--${name}${o.type === 'string' ? ' <value>' : ''}`)
    .join(', ');
}

/** The flag a `util.parseArgs` message quotes (`'--out <value>'` → `--out`). */
function quotedFlag(message: string): string {
  return /'(-{1,2}[^' =]+)/.exec(message)?.[1] ?? message;
}

/**
 * Parses `argv` against the declared options. Throws `UsageError` with one line for an unknown
 * option, a missing or unexpected value, a positional too many, or an option given twice.
 */
export function parseCommandLine(argv: readonly string[], spec: CommandLineSpec): ParsedCommandLine {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: spec.options, strict: true, allowPositionals: true, tokens: true });
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const flag = quotedFlag(message);
    switch (code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        throw new UsageError(`${spec.name}: unknown option ${flag} (options: ${optionList(spec.options)})`);
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
        throw new UsageError(
          /does not take an argument/.test(message)
            ? `${spec.name}: ${flag} takes no value`
            : `${spec.name}: ${flag} needs a value (${flag} <value> or ${flag}=<value>)`,
        );
      default:
        throw error;
    }
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name) && !spec.options[token.name]?.multiple) throw new UsageError(`${spec.name}: --${token.name} is given twice; give it once`);
    seen.add(token.name);
  }
  const max = spec.maxPositionals ?? 0;
  if (parsed.positionals.length > max) {
    throw new UsageError(`${spec.name}: unexpected argument "${parsed.positionals[max]}"${max === 0 ? ' (this command takes options only)' : ''}`);
  }
  return { values: parsed.values as OptionValues, positionals: parsed.positionals };
}

/**
 * Runs a program's `main` and exits with its code. Usage errors exit 2 and config problems exit 1,
 * each printing its message alone; anything else is a bug and keeps its stack trace.
 */
export function runMain(main: () => number | Promise<number>, isUserError: (error: unknown) => boolean = () => false): void {
  Promise.resolve()
    .then(main)
    .then(
      (code) => process.exit(code),
      (error: unknown) => {
        if (error instanceof UsageError) {
          console.error(error.message);
          process.exit(USAGE_EXIT_CODE);
        }
        if (isUserError(error)) {
          console.error((error as Error).message);
          process.exit(1);
        }
        console.error(error);
        process.exit(1);
      },
    );
}
