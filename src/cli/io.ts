/**
 * What a command reads and writes, so that the command line runs in-process (tests, `main`) as
 * well as in its own process (`dist/cli.js`). Commands never call `process.exit`: they throw
 * `CliExit` (`fail`) or return, and `main` turns that into the exit code.
 */
import { readFileSync } from 'node:fs'

export interface Io {
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown }
  /** standard input, read whole (`analyze -`) */
  readStdin(): string
}

/** The process's own streams. */
export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, readStdin: () => readFileSync(0, 'utf8') }
}

/** Ends a command with an exit code; `main` prints `routeguard: <message>` on stderr when there is one. */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message)
  }
}

/** Ends the command: `routeguard: message` on stderr, exit code 2 (usage, the default) or 1 (the work failed). */
export function fail(message: string, code: 1 | 2 = 2): never {
  throw new CliExit(code, message)
}

/** The exit code a command sets (`analyze`'s 1 for findings, `trace`'s for the outcome); 0 unless set. */
export interface ExitCode {
  code: number
}
