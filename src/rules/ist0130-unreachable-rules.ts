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
import { arr, type K8sObject, KIND, num, rec, str } from '../model/object.js'
import { matchSignature, virtualService } from '../model/istio.js'
import { finding } from './messages.js'
import { analyzerRules, type Finding } from './types.js'

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

function analyze(subject: K8sObject, section: 'http' | 'tcp' | 'tls', rules: Record<string, unknown>[], out: Finding[]): void {
  const http = section === 'http'
  const seen = new Map<string, number>()
  let emptySeen = false
  const prefixes: PrefixMatch[] = []
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
        if (p) prefixes.push(p)
      }
    })
    if (duplicates === matches.length) {
      out.push(finding('IST0130', subject, { rule: rname, reason: 'all matches used by prior rules' }, { path: `spec.${section}[${ruleIndex}]` }))
    }
  })
  // Pairwise like Istio, but bounded so that a hostile object cannot make admission quadratic.
  const n = Math.min(prefixes.length, MAX_PREFIX_MATCHES)
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = prefixes[i]!
      const b = prefixes[j]!
      if (a.prefix === b.prefix) continue
      if (covered(a, b)) {
        out.push(
          finding('IST0131', subject, {
            rule: b.route,
            match: `${b.match} of prefix ${b.prefix}`,
            earlier: `${a.match} of prefix ${a.prefix} on ${a.route}`,
          }, { path: 'spec.http' }),
        )
      }
    }
  }
}

/** Prefix matches compared pairwise for coverage; later ones are not compared (500k pairs at most). */
export const MAX_PREFIX_MATCHES = 1000

function check(subject: K8sObject): Finding[] {
  const vs = virtualService(subject)
  const out: Finding[] = []
  analyze(subject, 'http', vs.http, out)
  analyze(subject, 'tcp', vs.tcp, out)
  analyze(subject, 'tls', vs.tls, out)
  return out
}

/** Both codes come from one pass; each rule keeps its own code. */
export const { IST0130: ist0130, IST0131: ist0131 } = analyzerRules(
  { subjects: [KIND.VirtualService], inputs: [], istioAnalyzer: 'schema.ValidationAnalyzer.VirtualService' },
  ['IST0130', 'IST0131'],
  (subject) => check(subject),
)
