/**
 * routeguard's command line: `serve`, `certs`, `analyze`, `convert`, `trace`, `diff`, `docs`, one file
 * each beside this one. `main` runs it in-process (tests call it with their own `Io`);
 * `src/cli.ts` is the executable. Exit codes: 0 success, 1 findings at the failure threshold
 * (analyze) or the work failed, 2 usage errors or unreadable input.
 */
import { Command, CommanderError } from 'commander'
import { registerAnalyze } from './analyze.js'
import { registerCerts } from './certs.js'
import { registerConvert } from './convert.js'
import { registerDiff } from './diff.js'
import { registerDocs } from './docs.js'
import { CliExit, type ExitCode, type Io } from './io.js'
import { registerServe } from './serve.js'
import { registerTrace } from './trace.js'
import { packageVersion } from './version.js'

/**
 * Runs one command line. Never throws and never exits the process.
 * @param argv the arguments after the program name (`['analyze', '-o', 'json', 'dir']`)
 * @returns the exit code
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const exit: ExitCode = { code: 0 }
  const program = new Command()
  program
    .name('routeguard')
    .description('Admission webhook that blocks conflicting Istio and Gateway API routing config')
    .version(packageVersion(), '--version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
  for (const register of [registerServe, registerCerts, registerAnalyze, registerConvert, registerTrace, registerDiff, registerDocs]) register(program, io, exit)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return exit.code
  } catch (e) {
    if (e instanceof CliExit) {
      if (e.message) io.stderr.write(`routeguard: ${e.message}\n`)
      return e.code
    }
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2
    io.stderr.write(`routeguard: ${(e as Error).message}\n`)
    return 2
  }
}
