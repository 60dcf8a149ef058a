/**
 * Evaluates a CRD's `x-kubernetes-validations` (CEL) rules on an object, the way the API server
 * does: each rule runs with `self` bound to the value at its schema node; `type: integer` values
 * are CEL ints (BigInt); transition rules (`oldSelf`) are skipped (there is no old object).
 * Uses @marcbachmann/cel-js. Returns the messages of the rules that fail.
 */
import { Environment } from '@marcbachmann/cel-js'
import { searchMatch } from '../routing/regex.js'
import { registerKubernetesLibraries } from './cel-kubernetes.js'

type Schema = Record<string, any>

const RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while'])

/** Kubernetes' CEL property-name escaping (`namespace` → `__namespace__`, `.` → `__dot__`, …). */
function escapeName(k: string): string {
  if (RESERVED.has(k)) return `__${k}__`
  return k.replace(/__/g, '__underscores__').replace(/\./g, '__dot__').replace(/-/g, '__dash__').replace(/\//g, '__slash__')
}

/** The object as the API server sees it after structural defaulting (schema `default`s filled in). */
export function withDefaults(v: unknown, s: Schema | undefined): unknown {
  if (!s) return v
  if (v === undefined) return v
  if (Array.isArray(v)) return v.map((x) => withDefaults(x, s.items))
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = { ...(v as object) }
    for (const [k, sub] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
      if (out[k] === undefined && sub.default !== undefined) out[k] = structuredClone(sub.default)
      if (out[k] !== undefined) out[k] = withDefaults(out[k], sub)
    }
    return out
  }
  return v
}

function toCel(v: unknown, s: Schema | undefined): unknown {
  if (v === null || v === undefined || !s) return v
  if (s.type === 'integer' && typeof v === 'number') return BigInt(v)
  if (Array.isArray(v)) return v.map((x) => toCel(x, s.items))
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) out[escapeName(k)] = toCel(x, s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined))
    return out
  }
  return v
}

/**
 * cel-js cannot take `has()` of a selection on an indexed expression (`has(self.matches[0].path)`);
 * for JSON maps that is the same test as `'path' in self.matches[0]`, so such rules are rewritten.
 */
export function adaptRule(rule: string): string {
  return rule.replace(/has\(([\w.]+\[[^\]]+\][\w.]*)\.(\w+)\)/g, "('$2' in $1)").replace(/\.matches\(/g, '.re2Matches(')
}

/**
 * The CEL environment rules run in: cel-js's standard library with the Kubernetes libraries
 * (`cel-kubernetes.ts`: IP/CIDR, URL, quantity, format, lists, sets, regex find), except that `string.matches` (a
 * method call: `.matches(` — a field named `matches` is never called) becomes `re2Matches`, which
 * matches with RE2 as the API server does (routing/regex.ts), never with JavaScript's
 * backtracking `RegExp` on an object's strings. cel-js will not let its own `matches` be replaced.
 */
const env = registerKubernetesLibraries(new Environment({ unlistedVariablesAreDyn: true, enableOptionalTypes: true })).registerFunction('string.re2Matches(string): bool', (value: string, pattern: string) => searchMatch(pattern, value))

/**
 * Why the API server would refuse to compile `rule` in this environment (an unknown function or
 * overload, a type error), or undefined when it type-checks. `self` and other names are dyn.
 */
export function checkRule(rule: string): string | undefined {
  const r = env.check(adaptRule(rule))
  return r.valid ? undefined : (r.error?.message ?? 'invalid').split('\n')[0]
}

export function celViolations(raw: unknown, schema: Schema, path = ''): string[] {
  const value = path === '' ? withDefaults(raw, schema) : raw
  const out: string[] = []
  if (value === undefined || value === null) return out
  for (const v of schema['x-kubernetes-validations'] ?? []) {
    if (String(v.rule).includes('oldSelf')) continue
    let ok: unknown
    try {
      ok = env.evaluate(adaptRule(v.rule), { self: toCel(value, schema) })
    } catch (e) {
      ok = `error: ${(e as Error).message}`
    }
    if (ok !== true) out.push(`${path || '(root)'}: ${v.message ?? v.rule}${ok === false ? '' : ` (${String(ok)})`}`)
  }
  if (Array.isArray(value) && schema.items) value.forEach((x, i) => out.push(...celViolations(x, schema.items, `${path}[${i}]`)))
  else if (typeof value === 'object') {
    for (const [k, x] of Object.entries(value as object)) {
      const sub = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined)
      if (sub) out.push(...celViolations(x, sub, path ? `${path}.${k}` : k))
    }
  }
  return out
}
