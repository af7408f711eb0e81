/**
 * The one error class of the `wsgiref` command: a mistake the user can fix (a bad
 * flag, a missing module, a port in use), printed as one line without a stack.
 */

/** An error the command reports as one line on stderr, then exits with `exitCode`. */
export class CliError extends Error {
  override name = "CliError";
  /** 2 for a usage mistake (bad flag or argument), 1 for anything else. */
  readonly exitCode: number;

  constructor(message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options?.exitCode ?? 1;
  }
}

/** A usage mistake: exit code 2, as most commands (and `parseArgs`' callers) use. */
export function usageError(message: string): CliError {
  return new CliError(message, { exitCode: 2 });
}

/** Render any thrown value as one line: `Name: message`, newlines folded. */
export function oneLine(err: unknown): string {
  const text =
    err instanceof Error
      ? `${err.name === "Error" ? "" : `${err.name}: `}${err.message}`
      : String(err);
  return text.replace(/\s*\n\s*/g, " ").trim();
}
