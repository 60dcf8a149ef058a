/**
 * The engine: evaluates the rules that concern one subject against a view. One engine, three
 * drivers (webhook, analyze, audit); the drivers differ only in how ages are compared.
 */
import { compareAge, type K8sObject, kindKeyOf } from './model/object.js'
import { RULES } from './rules/index.js'
import type { CheckContext, Finding, Implementation, Rule } from './rules/types.js'
import { resolveImplementation } from './features/features.js'
import type { View } from './view/view.js'

export interface EvaluateOptions {
  /**
   * `admission`: the subject is the object under review and counts as the newest of all;
   * `audit`: the subject is one stored object among others and ages are compared.
   */
  mode: 'admission' | 'audit'
  /** rules to run (default: all) */
  rules?: readonly Rule[]
  /** the Gateway API implementation (default: Istio, latest report) */
  implementation?: Implementation
}

let defaultImplementation: Implementation | undefined

/** Istio at its latest conformance report: the implementation routeguard assumes by default. */
export function istioDefault(): Implementation {
  return (defaultImplementation ??= resolveImplementation('istio'))
}

/** Runs every applicable rule on `subject`. Pure: findings depend only on subject and view. */
export function evaluate(subject: K8sObject, view: View, opts: EvaluateOptions): Finding[] {
  const kind = kindKeyOf(subject)
  if (!kind) return []
  const ctx: CheckContext = {
    view,
    olderThanSubject: opts.mode === 'admission' ? () => true : (other) => compareAge(other, subject) < 0,
    implementation: opts.implementation ?? istioDefault(),
  }
  const out: Finding[] = []
  for (const rule of opts.rules ?? RULES) {
    if (rule.subjects.includes(kind)) out.push(...rule.check(subject, ctx))
  }
  return out
}
