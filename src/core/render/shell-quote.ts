/** POSIX-shell quoting for display: argv stays the source of truth (processes get the array). */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function renderCommandLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
