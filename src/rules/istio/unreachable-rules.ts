/**
 * IST0130 VirtualServiceUnreachableRule and IST0131 VirtualServiceIneffectiveMatch, within one
 * VirtualService, ported from Istio's `pkg/config/validation` (`analyzeUnreachableHTTPRules`,
 * `…TCPRules`, `…TLSRules`, `coveredValidation`), which `schema.ValidationAnalyzer.VirtualService`
 * reports:
 * - a rule without match followed by another rule without match → IST0130 on the later one;
 * - a match whose JSON (minus `name`) equals an earlier match → IST0131; all matches of a rule
 *   duplicated → IST0130;
 * - HTTP only: a prefix URI match covered by an earlier prefix match (string prefix, same port,
 *   method/authority/header/query/withoutHeaders equal or prefix-compatible; no method counts as
 *   `exact:GET`) → IST0131.
 * One finding per occurrence (Istio emits one message each). Reads nothing but the subject.
 */
import { arr, type K8sObject, KIND, num, rec, str } from '../../model/object.js'
import { matchSignature, virtualService } from '../../model/istio.js'
import { finding } from '../messages.js'
import { defineRule, type Finding } from '../types.js'

interface PrefixMatch {
  route: string
  match: string
  prefix: string
  port: number
  method: string
  authority: string
  headers: Map<string, string>
  query: Map<string, string>
  withoutHeaders: Map<string, string>
}

function routeName(rule: Record<string, unknown>, i: number, http: boolean): string {
  const n = http ? str(rule.name) : undefined
  return n ? JSON.stringify(n) : `#${i}`
}

function requestName(match: Record<string, unknown>, i: number, http: boolean): string {
  const n = http ? str(match.name) : undefined
  return n ? JSON.stringify(n) : `#${i}`
}

function exactOrPrefix(v: unknown): string {
  const sm = rec(v)
  const exact = str(sm.exact)
  if (exact) return `exact:${exact}`
  const prefix = str(sm.prefix)
  if (prefix) return `prefix:${prefix}`
  return ''
}

function stringMatchMap(v: unknown): Map<string, string> {
  const m = new Map<string, string>()
  for (const [k, sm] of Object.entries(rec(v))) m.set(k, exactOrPrefix(sm))
  return m
}

function prefixMatch(rule: Record<string, unknown>, ruleIndex: number, match: Record<string, unknown>, matchIndex: number): PrefixMatch | undefined {
  const prefix = str(rec(match.uri).prefix)
  if (!prefix) return undefined
  return {
    route: routeName(rule, ruleIndex, true),
    match: requestName(match, matchIndex, true),
    prefix,
    port: num(match.port) ?? 0,
    method: exactOrPrefix(match.method) || 'exact:GET',
    authority: exactOrPrefix(match.authority),
    headers: stringMatchMap(match.headers),
    query: stringMatchMap(match.queryParams),
    withoutHeaders: stringMatchMap(match.withoutHeaders),
  }
}

function compatible(a: string, b: string): boolean {
  return a === b || a.startsWith(b)
}

function mapCovered(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false
  for (const [k, v] of a) {
    const w = b.get(k)
    if (w === undefined || !compatible(v, w)) return false
  }
  return true
}

/** Istio's `coveredValidation(vA, vB)`: does earlier match `a` cover later match `b`? */
function covered(a: PrefixMatch, b: PrefixMatch): boolean {
  return (
    b.prefix.startsWith(a.prefix) &&
    a.port === b.port &&
    compatible(a.method, b.method) &&
    compatible(a.authority, b.authority) &&
    mapCovered(a.headers, b.headers) &&
    mapCovered(a.query, b.query) &&
    mapCovered(a.withoutHeaders, b.withoutHeaders)
  )
}

interface Ordered extends PrefixMatch {
  /** position among the prefix matches, in rule and match order */
  order: number
}

/** Base pass: IST0130 and duplicate-match IST0131 findings, and the HTTP prefix matches for coverage. */
function analyze(subject: K8sObject, section: 'http' | 'tcp' | 'tls', rules: Record<string, unknown>[], out: Finding[], prefixes: Ordered[]): void {
  const http = section === 'http'
  const seen = new Map<string, number>()
  let emptySeen = false
  rules.forEach((rule, ruleIndex) => {
    const rname = routeName(rule, ruleIndex, http)
    const matches = arr(rule.match)
    if (matches.length === 0) {
      if (emptySeen) {
        out.push(finding('IST0130', subject, { rule: rname, reason: 'only the last rule can have no matches' }, { path: `spec.${section}[${ruleIndex}]` }))
      }
      emptySeen = true
      return
    }
    let duplicates = 0
    matches.forEach((raw, matchIndex) => {
      const match = rec(raw)
      const sig = matchSignature(match)
      const dup = seen.get(sig)
      if (dup !== undefined) {
        duplicates++
        out.push(
          finding(
            'IST0131',
            subject,
            { rule: rname, match: requestName(match, matchIndex, http), earlier: `rule ${routeName(rules[dup]!, dup, http)}` },
            { path: `spec.${section}[${ruleIndex}].match[${matchIndex}]` },
          ),
        )
        return
      }
      seen.set(sig, ruleIndex)
      if (http) {
        const p = prefixMatch(rule, ruleIndex, match, matchIndex)
        if (p) prefixes.push({ ...p, order: prefixes.length })
      }
    })
    if (duplicates === matches.length) {
      out.push(finding('IST0130', subject, { rule: rname, reason: 'all matches used by prior rules' }, { path: `spec.${section}[${ruleIndex}]` }))
    }
  })
}

/** `coveredValidation` pairs compared at most per VirtualService (a bound on hostile input; real ones compare a few). */
export const MAX_COVERAGE_COMPARISONS = 1_000_000
/** Coverage findings per VirtualService at most (Istio reports every pair; a hostile object has millions). */
export const MAX_COVERAGE_FINDINGS = 10_000

/**
 * Istio's pairwise prefix coverage (earlier `a` covers later `b` when `b`'s prefix starts with
 * `a`'s and the rest is compatible), without comparing all pairs: the prefixes are sorted, and
 * a stack walk gives each prefix exactly the matches whose prefix is a proper prefix of it
 * (all of them sort just before it). Only those are compared. Cost: a sort plus the
 * (ancestor, descendant) pairs, bounded by MAX_COVERAGE_COMPARISONS. Findings come out in
 * Istio's order (earlier match, then later).
 */
function prefixCoverage(subject: K8sObject, prefixes: Ordered[]): Finding[] {
  if (prefixes.length < 2) return []
  const sorted = [...prefixes].sort((x, y) => (x.prefix < y.prefix ? -1 : x.prefix > y.prefix ? 1 : x.order - y.order))
  const pairs: [Ordered, Ordered][] = []
  // groups of equal prefixes on the stack, each a proper prefix of the next
  const stack: Ordered[][] = []
  let comparisons = 0
  outer: for (let i = 0; i < sorted.length; i++) {
    const b = sorted[i]!
    const top = stack[stack.length - 1]
    if (top && top[0]!.prefix === b.prefix) {
      // equal prefixes never cover each other: compare with the ancestors below, then join the group
      for (let g = 0; g < stack.length - 1; g++) {
        for (const a of stack[g]!) {
          if (++comparisons > MAX_COVERAGE_COMPARISONS || pairs.length >= MAX_COVERAGE_FINDINGS) break outer
          if (a.order < b.order && covered(a, b)) pairs.push([a, b])
        }
      }
      top.push(b)
      continue
    }
    while (stack.length && !b.prefix.startsWith(stack[stack.length - 1]![0]!.prefix)) stack.pop()
    for (const group of stack) {
      for (const a of group) {
        if (++comparisons > MAX_COVERAGE_COMPARISONS || pairs.length >= MAX_COVERAGE_FINDINGS) break outer
        if (a.order < b.order && covered(a, b)) pairs.push([a, b])
      }
    }
    stack.push([b])
  }
  pairs.sort(([a1, b1], [a2, b2]) => a1.order - a2.order || b1.order - b2.order)
  return pairs.map(([a, b]) =>
    finding('IST0131', subject, {
      rule: b.route,
      match: `${b.match} of prefix ${b.prefix}`,
      earlier: `${a.match} of prefix ${a.prefix} on ${a.route}`,
    }, { path: 'spec.http' }),
  )
}

interface Base {
  findings: Finding[]
  prefixes: Ordered[]
}

function base(subject: K8sObject): Base {
  const vs = virtualService(subject)
  const out: Finding[] = []
  const prefixes: Ordered[] = []
  analyze(subject, 'http', vs.http, out, prefixes)
  analyze(subject, 'tcp', vs.tcp, out, [])
  analyze(subject, 'tls', vs.tls, out, [])
  return { findings: out, prefixes }
}

const meta = { subjects: [KIND.VirtualService], inputs: [], istioAnalyzer: 'schema.ValidationAnalyzer.VirtualService' }

/** IST0130 from the base pass. */
export const ist0130 = defineRule({ ...meta, code: 'IST0130', check: (s, ctx) => ctx.pass(base).findings.filter((f) => f.code === 'IST0130') })

/**
 * IST0131: duplicate matches from the base pass, then prefix coverage, which only this rule
 * computes (it is `off` at admission by default, so admission never pays for it).
 */
export const ist0131 = defineRule({
  ...meta,
  code: 'IST0131',
  check: (s, ctx) => {
    const b = ctx.pass(base)
    const out = b.findings.filter((f) => f.code === 'IST0131')
    for (const f of prefixCoverage(s, b.prefixes)) out.push(f)
    return out
  },
})
