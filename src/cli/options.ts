/** Option parsers shared by the commands; each throws a CommanderError (exit 2) naming the flag. */
import { CommanderError } from 'commander'

/** A TCP port number, 0–65535. */
export function port(v: string, flag: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CommanderError(2, 'routeguard.port', `${flag}: not a port number: ${v}`)
  return n
}

/** A finite number > 0. */
export function positive(v: string, flag: string): number {
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new CommanderError(2, 'routeguard.number', `${flag}: not a positive number: ${v}`)
  return n
}

/** A finite number ≥ 0. */
export function nonNegative(v: string, flag: string): number {
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) throw new CommanderError(2, 'routeguard.number', `${flag}: not a number ≥ 0: ${v}`)
  return n
}
