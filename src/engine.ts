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

/** The CheckContext of one evaluation: the view, the age rule, and the analysis passes run so far. */
class Evaluation implements CheckContext {
  readonly olderThanSubject: (other: K8sObject) => boolean
  /** [analyze, result] pairs: an evaluation runs a handful of passes, a list beats a Map */
  private readonly passes: unknown[] = []

  constructor(
    private readonly subject: K8sObject,
    readonly view: View,
    readonly implementation: Implementation,
    mode: EvaluateOptions['mode'],
  ) {
    this.olderThanSubject = mode === 'admission' ? always : (other) => compareAge(other, subject) < 0
  }

  pass<R>(analyze: (subject: K8sObject, ctx: CheckContext) => R): R {
    for (let i = 0; i < this.passes.length; i += 2) if (this.passes[i] === analyze) return this.passes[i + 1] as R
    const r = analyze(this.subject, this)
    this.passes.push(analyze, r)
    return r
  }
}

/** Runs every applicable rule on `subject`. Pure: findings depend only on subject and view. */
export function evaluate(subject: K8sObject, view: View, opts: EvaluateOptions): Finding[] {
  const kind = kindKeyOf(subject)
  if (!kind) return []
  const ctx = new Evaluation(subject, view, opts.implementation ?? istioDefault(), opts.mode)
  const out: Finding[] = []
  for (const rule of rulesFor(opts.rules ?? RULES, kind)) {
    const fs = rule.check(subject, ctx)
    for (let i = 0; i < fs.length; i++) out.push(fs[i]!)
  }
  return out
}
