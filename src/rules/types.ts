/**
 * The rule interface, after Istio's `analysis.Analyzer`: metadata that declares what a rule reads,
 * and one pure function. A rule sees one subject and the read-only view; it does no I/O and reads
 * no clock, so the webhook, `analyze` and the audit get the same answer for the same input.
 */
import type { K8sObject, KindKey, ObjectRef } from '../model/object.js'
import type { View } from '../view/view.js'
import { CATALOGUE, type Code, type Severity } from './catalogue.js'

export interface Finding {
  code: Code
  name: string
  severity: Severity
  /** the object the finding is about */
  resource: ObjectRef
  /** starts with the code: `IST0109: …` */
  message: string
  /** field path in the resource, e.g. `spec.http[1].match[0]` */
  path?: string
  /** the other objects involved (the conflicting ones) */
  related: { kind: string; namespace: string; name: string }[]
  /** Gateway API condition reason the controller would set, where one applies */
  reason?: string
}

export interface CheckContext {
  view: View
  /**
   * Is `other` older than the subject (creationTimestamp, then namespace/name)? In admission the
   * subject is always the newest; in analyze and audit ages are compared.
   */
  olderThanSubject(other: K8sObject): boolean
  /** the Gateway API implementation the cluster runs, and the features it claims */
  implementation: Implementation
  /** what routeguard knows of the mesh config (MeshConfig), for the analyzers that read it */
  mesh: MeshFacts
  /**
   * One analysis pass per evaluation: the first call with `analyze` runs it on (subject, this
   * context), later calls in the same evaluation return that result. Lets the rules of one
   * analyzer (one Rule per code) share a pass without a cache that outlives the request.
   */
  pass<R>(analyze: (subject: K8sObject, ctx: CheckContext) => R): R
}

/**
 * The MeshConfig facts Istio's analyzers read. `dnsAutoAllocate`: `defaultConfig.proxyMetadata`
 * sets both `ISTIO_META_DNS_CAPTURE` and `ISTIO_META_DNS_AUTO_ALLOCATE` to "true" (the sidecar
 * DNS proxy gives ServiceEntries without addresses an address; `serviceentry.Analyzer`).
 */
export interface MeshFacts {
  dnsAutoAllocate: boolean
}

export const DEFAULT_MESH: MeshFacts = Object.freeze({ dnsAutoAllocate: false })

/** MeshFacts of a MeshConfig document (YAML/JSON already parsed); unknown shapes read as the defaults. */
export function meshFacts(doc: unknown): MeshFacts {
  const d = doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>) : {}
  const meta = ((d.defaultConfig as Record<string, unknown> | undefined)?.proxyMetadata ?? {}) as Record<string, unknown>
  return { dnsAutoAllocate: meta.ISTIO_META_DNS_CAPTURE === 'true' && meta.ISTIO_META_DNS_AUTO_ALLOCATE === 'true' }
}

export interface Implementation {
  name: string
  version: string
  features: Set<string>
}

/** What a rule module declares; `defineRule` adds name, severity and description from the catalogue. */
export interface RuleSpec {
  code: Code
  /** kinds the rule is evaluated for */
  subjects: KindKey[]
  /** kinds the rule reads from the view (besides the subject) */
  inputs: KindKey[]
  /** the Istio analyzer this rule mirrors, named as in Istio's analyzer metadata */
  istioAnalyzer?: string
  check(subject: K8sObject, ctx: CheckContext): Finding[]
}

export interface Rule extends RuleSpec {
  name: string
  /** default severity (the policy maps it to deny / warn / off) */
  severity: Severity
  /** one line: what the rule finds */
  description: string
}

/** Builds a rule from its module's declaration and its catalogue entry. */
export function defineRule(spec: RuleSpec): Rule {
  const m = CATALOGUE[spec.code]
  return { ...spec, name: m.name, severity: m.level, description: m.description }
}

/**
 * The rules of one analyzer that reports several codes (as Istio's analyzers do): one pass per
 * evaluation (`ctx.pass`), one Rule per code that keeps that code's findings.
 */
export function analyzerRules<C extends Code>(
  meta: Omit<RuleSpec, 'code' | 'check'>,
  codes: readonly C[],
  analyze: (subject: K8sObject, ctx: CheckContext) => Finding[],
): Record<C, Rule> {
  const byCode = (subject: K8sObject, ctx: CheckContext): Map<Code, Finding[]> => {
    const m = new Map<Code, Finding[]>()
    for (const f of analyze(subject, ctx)) {
      const list = m.get(f.code)
      if (list) list.push(f)
      else m.set(f.code, [f])
    }
    return m
  }
  const out = {} as Record<C, Rule>
  for (const code of codes) out[code] = defineRule({ ...meta, code, check: (s, ctx) => ctx.pass(byCode).get(code) ?? [] })
  return out
}
