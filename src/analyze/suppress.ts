/**
 * `analyze --suppress`, with istioctl's syntax (`istioctl analyze --suppress`): `CODE` suppresses
 * the code everywhere; `CODE=Kind name.namespace` (istioctl's resource form) or
 * `CODE=Kind namespace/name` suppresses it for matching resources; `*` in the code, kind, name or
 * namespace matches anything (`IST0107=Pod *.baz`).
 */
import type { Finding } from '../rules/types.js'

export interface Suppression {
  code: RegExp
  kind?: RegExp
  name?: RegExp
  namespace?: RegExp
}

function glob(s: string): RegExp {
  return new RegExp(`^${s.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`)
}

/**
 * Parses one `--suppress` value.
 * @throws Error naming the value when it has a resource part that is not `Kind name.namespace` or `Kind namespace/name`
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
      s.code.test(f.code) &&
      (!s.kind || s.kind.test(f.resource.kind)) &&
      (!s.name || s.name.test(f.resource.name)) &&
      (!s.namespace || s.namespace.test(f.resource.namespace)),
  )
}
