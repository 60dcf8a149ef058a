/**
 * The rule interface, after Istio's `analysis.Analyzer`: metadata that declares what a rule reads,
 * and one pure function. A rule sees one subject and the read-only view; it does no I/O and reads
 * no clock, so the webhook, `analyze` and the audit get the same answer for the same input.
 */
import type { K8sObject, KindKey, ObjectRef } from '../model/object.js'
import type { View } from '../view/view.js'
import { CATALOGUE, type Code, type Severity } from './messages.js'

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
 * Memoises an analysis per (subject, view): several rule codes of one Istio analyzer share one
 * pass (each Rule asks for its own code). Entries go with the subject object.
 */
export function perSubjectAndView<V extends object, R = Finding[]>(analyze: (subject: K8sObject, view: V) => R): (subject: K8sObject, view: V) => R {
  const memo = new WeakMap<K8sObject, WeakMap<V, R>>()
  return (subject, view) => {
    let m = memo.get(subject)
    if (!m) memo.set(subject, (m = new WeakMap()))
    let out = m.get(view)
    if (out === undefined) m.set(view, (out = analyze(subject, view)))
    return out
  }
}

/**
 * The rules of one analyzer that reports several codes (as Istio's analyzers do): one pass
 * (`analyze`, memoise it), one Rule per code that keeps that code's findings.
 */
export function analyzerRules<C extends Code>(
  meta: Omit<RuleSpec, 'code' | 'check'>,
  codes: readonly C[],
  analyze: (subject: K8sObject, ctx: CheckContext) => Finding[],
): Record<C, Rule> {
  const out = {} as Record<C, Rule>
  for (const code of codes) out[code] = defineRule({ ...meta, code, check: (s, ctx) => analyze(s, ctx).filter((f) => f.code === code) })
  return out
}
