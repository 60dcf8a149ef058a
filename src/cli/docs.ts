/**
 * `routeguard docs`: docs/rules.md from the catalogue.
 */
import type { Command } from 'commander'
import { renderRulesDoc } from '../docs.js'
import type { ExitCode, Io } from './io.js'

export function registerDocs(program: Command, io: Io, _exit: ExitCode): void {
  program
    .command('docs')
    .description('print docs/rules.md, generated from the message catalogue')
    .action(() => {
      io.stdout.write(renderRulesDoc())
    })
}
