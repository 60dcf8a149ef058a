/**
 * `analyze --suppress`, with istioctl's syntax (`istioctl analyze --suppress`): `CODE` suppresses
 * the code everywhere; `CODE=Kind name.namespace` (istioctl's resource form) or
 * `CODE=Kind namespace/name` suppresses it for matching resources; `*` in the code, kind, name or
 * namespace matches anything (`IST0107=Pod *.baz`).
 */
import type { Finding } from '../rules/types.js'
import { fullMatch, quoteRegex, regexError } from '../routing/regex.js'

/** One part of a suppression: does a finding's code, kind, name or namespace match it? */
export type Glob = (value: string) => boolean

export interface Suppression {
  code: Glob
  kind?: Glob
  name?: Glob
  namespace?: Glob
}

/**
 * A `*` glob as a matcher: the parts between stars quoted, the stars `.*`, matched whole with RE2
 * (linear in the name: a glob of many stars against a tenant's long name cannot backtrack).
 * @throws Error when the glob is too long to compile (over 1024 characters as an expression)
 */
function glob(s: string): Glob {
  const pattern = s.split('*').map(quoteRegex).join('.*')
  const error = regexError(pattern)
  if (error !== undefined) throw new Error(`--suppress ${JSON.stringify(s)}: ${error}`)
  return (value) => fullMatch(pattern, value)
}

/**
 * Parses one `--suppress` value.
 * @throws Error naming the value when it has a resource part that is not `Kind name.namespace` or
 *   `Kind namespace/name`, or a glob too long to compile
 */
export function parseSuppression(spec: string): Suppression {
  const eq = spec.indexOf('=')
  const code = glob((eq < 0 ? spec : spec.slice(0, eq)).trim())
  if (eq < 0) return { code }
  const resource = spec.slice(eq + 1).trim()
  const space = resource.indexOf(' ')
  if (space <= 0) throw new Error(`--suppress ${JSON.stringify(spec)}: the resource is "Kind name.namespace" (or "Kind namespace/name")`)
  const kind = resource.slice(0, space)
  const ref = resource.slice(space + 1).trim()
  const slash = ref.indexOf('/')
  if (slash >= 0) return { code, kind: glob(kind), namespace: glob(ref.slice(0, slash)), name: glob(ref.slice(slash + 1)) }
  const dot = ref.lastIndexOf('.')
  return dot < 0 ? { code, kind: glob(kind), name: glob(ref) } : { code, kind: glob(kind), name: glob(ref.slice(0, dot)), namespace: glob(ref.slice(dot + 1)) }
}

/** Is `f` suppressed by any of `suppressions`? */
export function isSuppressed(f: Finding, suppressions: readonly Suppression[]): boolean {
  return suppressions.some(
    (s) =>
      s.code(f.code) &&
      (!s.kind || s.kind(f.resource.kind)) &&
      (!s.name || s.name(f.resource.name)) &&
      (!s.namespace || s.namespace(f.resource.namespace)),
  )
}
