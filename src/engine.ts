/**
 * The engine: evaluates the rules that concern one subject against a view. One engine, three
 * drivers (webhook, analyze, audit); the drivers differ only in how ages are compared.
 */
import { compareAge, type K8sObject, kindKeyOf } from './model/object.js'
import { RULES, SUBJECT_KINDS } from './rules/index.js'
import { type CheckContext, DEFAULT_MESH, type Finding, type Implementation, type MeshFacts, type Rule } from './rules/types.js'
import { resolveImplementation } from './features/features.js'
import { isCutFinding, withFindingBudget } from './rules/messages.js'
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
  /** mesh config facts (default: Istio's defaults) */
  mesh?: MeshFacts
}

let defaultImplementation: Implementation | undefined

/** Istio at its latest conformance report: the implementation routeguard assumes by default. */
export function istioDefault(): Implementation {
  return (defaultImplementation ??= resolveImplementation('istio'))
}

/**
 * Rules by subject kind, per rule list (built once per list). Keyed only by kinds some rule
 * has as subject (a closed set): any other kind has no rules and is not remembered, so kinds
 * chosen by clients cannot grow this cache.
 */
const byKind = new WeakMap<readonly Rule[], Map<string, readonly Rule[]>>()
const NO_RULES: readonly Rule[] = Object.freeze([])

function rulesFor(rules: readonly Rule[], kind: string): readonly Rule[] {
  if (!SUBJECT_KINDS.has(kind)) return NO_RULES
  let m = byKind.get(rules)
  if (!m) byKind.set(rules, (m = new Map()))
  let list = m.get(kind)
  if (!list) m.set(kind, (list = rules.filter((r) => r.subjects.includes(kind))))
  return list
}

/**
 * Findings of one code an admission evaluation builds at most; the rest are counted
 * (`Evaluated.cut`). A review answers with a few of them anyway (4 KiB of warnings, ten deny
 * messages), and the audit annotation and the log name every code. Per code, so that a flood
 * of one warning never hides a finding that denies.
 */
export const MAX_ADMISSION_FINDINGS_PER_CODE = 100

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
    readonly mesh: MeshFacts,
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
  return evaluateBounded(subject, view, opts, Infinity).findings
}

/** Findings of one evaluation, and how many were left out by the cap. */
export interface Evaluated {
  findings: Finding[]
  /** findings left out because `max` were kept already */
  cut: number
  /** codes the subject's `galley.istio.io/analyze-suppress` annotation suppressed here */
  suppressed: string[]
}

/** Istio's per-object suppression annotation (`annotation.GalleyAnalyzeSuppress`). */
export const SUPPRESS_ANNOTATION = 'galley.istio.io/analyze-suppress'

/**
 * The codes an object suppresses for itself, as Istio reads the annotation: a comma-separated list
 * of codes (`IST0109,RG0103`), or `*` for every code. Undefined when there is none.
 */
export function suppressedBy(obj: K8sObject): ReadonlySet<string> | '*' | undefined {
  const raw = obj.metadata?.annotations?.[SUPPRESS_ANNOTATION]
  if (typeof raw !== 'string' || raw.trim() === '') return undefined
  const codes = raw.split(',').map((c) => c.trim()).filter(Boolean)
  return codes.includes('*') ? '*' : new Set(codes)
}

/**
 * `evaluate`, building at most `perCode` findings of each code and counting the rest (see
 * `withFindingBudget`). Admission uses MAX_ADMISSION_FINDINGS_PER_CODE; analyze and audit keep
 * everything.
 */
export function evaluateBounded(subject: K8sObject, view: View, opts: EvaluateOptions, perCode: number): Evaluated {
  const kind = kindKeyOf(subject)
  if (!kind) return { findings: [], cut: 0, suppressed: [] }
  const suppress = suppressedBy(subject)
  // what the object suppresses for itself is not evaluated at all (`*`: nothing is)
  let rules = suppress === '*' ? NO_RULES : rulesFor(opts.rules ?? RULES, kind)
  const suppressed = suppress === '*' ? ['*'] : [] as string[]
  if (suppress instanceof Set) {
    const kept = rules.filter((r) => !suppress.has(r.code))
    if (kept.length !== rules.length) {
      for (const r of rules) if (suppress.has(r.code) && !suppressed.includes(r.code)) suppressed.push(r.code)
      rules = kept
    }
  }
  if (rules.length === 0) return { findings: [], cut: 0, suppressed }
  const ctx = new Evaluation(subject, view, opts.implementation ?? istioDefault(), opts.mode, opts.mesh ?? DEFAULT_MESH)
  const out: Finding[] = []
  let cut = 0
  // two analyzers can report the same thing (IST0101 selector: IngressGatewayPortAnalyzer and
  // SecretAnalyzer); a finding with the code, field and text of an earlier one is said once
  let said: Set<string> | undefined
  const run = () => {
    for (const rule of rules) {
      const fs = rule.check(subject, ctx)
      for (let i = 0; i < fs.length; i++) {
        const f = fs[i]!
        if (isCutFinding(f)) {
          cut++
          continue
        }
        const key = `${f.code}\0${f.path ?? ''}\0${f.message}`
        if ((said ??= new Set()).has(key)) continue
        said.add(key)
        out.push(f)
      }
    }
  }
  if (perCode === Infinity) run()
  else withFindingBudget(perCode, run)
  return { findings: out, cut, suppressed }
}
