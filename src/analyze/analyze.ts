/**
 * The offline driver (`routeguard analyze`, and the conformance harness): load objects into a
 * view, then evaluate every object against all the others with the same rules the webhook runs.
 */
import { evaluate } from '../engine.js'
import { describeRef, idOf, kindKeyOf } from '../model/object.js'
import { RULES } from '../rules/index.js'
import type { Severity } from '../rules/catalogue.js'
import type { Finding, Implementation, MeshFacts, Rule } from '../rules/types.js'
import { ClusterView } from '../view/view.js'
import { type Ownership, standingTakeovers } from '../rules/conflicts/traffic-takeover.js'
import type { LoadedObject, Source } from './load.js'

export interface SourcedFinding extends Finding {
  source?: Source
}

export interface AnalyzeOptions {
  rules?: readonly Rule[]
  /** the Gateway API implementation RG0301 judges against (default: Istio) */
  implementation?: Implementation
  /** mesh config facts (`--meshconfig`) */
  mesh?: MeshFacts
  /** hostname ownership (`--config`): RG0106 for routes that hold another namespace's requests */
  ownership?: Ownership
}

/**
 * Rules named by code (`IST0109`) or by the Istio analyzer they mirror
 * (`virtualservice.ConflictingMeshGatewayHostsAnalyzer`).
 * @throws Error listing the names that match no rule.
 */
export function selectRules(names: string[]): Rule[] {
  const unknown = names.filter((n) => !RULES.some((r) => r.code === n || r.istioAnalyzer === n))
  if (unknown.length) throw new Error(`unknown rule or analyzer: ${unknown.join(', ')} (known: ${RULES.map((r) => r.code).join(', ')})`)
  return RULES.filter((r) => names.includes(r.code) || (r.istioAnalyzer !== undefined && names.includes(r.istioAnalyzer)))
}

/** Evaluates every loaded object against the others. Later duplicates of an identity replace earlier ones. */
export function analyzeObjects(loaded: LoadedObject[], opts: AnalyzeOptions = {}): { findings: SourcedFinding[]; view: ClusterView } {
  const rules = opts.rules ?? RULES
  const view = new ClusterView()
  const sources = new Map<string, Source>()
  for (const { object, source } of loaded) {
    if (view.upsert(object)) sources.set(idOf(object), source)
  }
  const subjects = new Set(rules.flatMap((r) => r.subjects))
  const findings: SourcedFinding[] = []
  // with ownership the view is tried without each route and put back: iterate over a copy
  for (const object of opts.ownership ? [...view.all()] : view.all()) {
    const source = sources.get(idOf(object))
    const found = subjects.has(kindKeyOf(object) ?? '') ? evaluate(object, view, { mode: 'audit', rules, implementation: opts.implementation, mesh: opts.mesh }) : []
    if (opts.ownership) found.push(...standingTakeovers(view, object, opts.ownership, Infinity))
    for (const f of found) findings.push(source ? { ...f, source } : f)
  }
  findings.sort(bySource)
  return { findings, view }
}

/** Orders findings by file, line, then code. */
export function bySource(a: SourcedFinding, b: SourcedFinding): number {
  const fa = a.source?.file ?? ''
  const fb = b.source?.file ?? ''
  if (fa !== fb) return fa < fb ? -1 : 1
  return (a.source?.line ?? 0) - (b.source?.line ?? 0) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)
}

const LEVEL_WORD: Record<Severity, string> = { error: 'Error', warning: 'Warning', info: 'Info' }

/**
 * One line per finding in istioctl's layout (`diag.Message.String()`): `Error [IST0109]
 * (VirtualService default/reviews-conflict reviews.yaml:12) message`, the origin being the file and
 * the line of the finding's field (`withFieldLines`) when it came from a file.
 */
export function formatText(findings: SourcedFinding[]): string {
  return findings
    .map((f) => {
      const origin = f.source && f.source.file !== 'cluster' ? ` ${f.source.file}${f.source.line ? `:${f.source.line}` : ''}` : ''
      const body = f.message.startsWith(`${f.code}: `) ? f.message.slice(f.code.length + 2) : f.message
      return `${LEVEL_WORD[f.severity]} [${f.code}] (${describeRef(f.resource)}${origin}) ${body}`
    })
    .join('\n')
}

