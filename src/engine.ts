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

/** Rules by subject kind, per rule list (built once per list). */
const byKind = new WeakMap<readonly Rule[], Map<string, readonly Rule[]>>()

function rulesFor(rules: readonly Rule[], kind: string): readonly Rule[] {
  let m = byKind.get(rules)
  if (!m) byKind.set(rules, (m = new Map()))
  let list = m.get(kind)
  if (!list) m.set(kind, (list = rules.filter((r) => r.subjects.includes(kind))))
  return list
}

const always = () => true

/** Runs every applicable rule on `subject`. Pure: findings depend only on subject and view. */
export function evaluate(subject: K8sObject, view: View, opts: EvaluateOptions): Finding[] {
  const kind = kindKeyOf(subject)
  if (!kind) return []
  const passes = new Map<unknown, unknown>()
  const ctx: CheckContext = {
    view,
    olderThanSubject: opts.mode === 'admission' ? always : (other) => compareAge(other, subject) < 0,
    implementation: opts.implementation ?? istioDefault(),
    pass<R>(analyze: (subject: K8sObject, ctx: CheckContext) => R): R {
      if (passes.has(analyze)) return passes.get(analyze) as R
      const r = analyze(subject, ctx)
      passes.set(analyze, r)
      return r
    },
  }
  const out: Finding[] = []
  for (const rule of rulesFor(opts.rules ?? RULES, kind)) {
    const fs = rule.check(subject, ctx)
    for (let i = 0; i < fs.length; i++) out.push(fs[i]!)
  }
  return out
}
