/**
 * Policy: what each finding does at admission. Per rule `deny | warn | off`; defaults by level
 * (error → deny, warning → warn, info → off). Exempt namespaces get no findings at all.
 */
import { CATALOGUE, type Code, type Severity } from './rules/catalogue.js'
import type { Finding, Rule } from './rules/types.js'
import type { K8sObject } from './model/object.js'
import { selects } from './model/istio.js'
import { RULES } from './rules/index.js'
import type { Ownership } from './rules/conflicts/traffic-takeover.js'

export type Action = 'deny' | 'warn' | 'off'

export interface Policy {
  rules: Partial<Record<Code, Action>>
  exemptNamespaces: string[]
  /**
   * On UPDATE, a finding the old version of the object already had only warns: a change is
   * denied for what it introduces, never for a violation it keeps (Kyverno's
   * `allowExistingViolations`). Absent means true; `false` denies every finding on every UPDATE.
   */
  allowExistingViolations?: boolean
  /** policy exceptions: findings they match warn instead of deny, until they expire */
  exceptions?: PolicyException[]
  /** hostname ownership for RG0106 TrafficTakeover (rules/conflicts/traffic-takeover.ts); absent: off */
  ownership?: Ownership
}

/**
 * A policy exception (after Kyverno's PolicyException): for the objects it matches, the codes it
 * names warn instead of deny at admission, until `expires`. Every field narrows; an absent one
 * matches everything.
 */
export interface PolicyException {
  /** names the exception in warnings, audit annotations and logs */
  name: string
  reason?: string
  /** codes (default: every code) */
  codes?: string[]
  namespaces?: string[]
  /** `Kind` of the object (VirtualService, HTTPRoute, …) */
  kinds?: string[]
  /** object names */
  names?: string[]
  /** labels the object must carry (equality, as a label selector's matchLabels) */
  matchLabels?: Record<string, string>
  /** RFC 3339 time after which the exception no longer applies */
  expires?: string
}

/**
 * The exception that lets `code` through for `subject` at `nowMs` (ms since the epoch), and any
 * matching exception that expired (so a denial can say so).
 */
export function exceptionFor(policy: Policy, code: string, subject: K8sObject, nowMs: number): { active?: PolicyException; expired?: PolicyException } {
  const out: { active?: PolicyException; expired?: PolicyException } = {}
  const labels = subject.metadata?.labels ?? {}
  for (const e of policy.exceptions ?? []) {
    if (e.codes && !e.codes.includes(code)) continue
    if (e.namespaces && !e.namespaces.includes(subject.metadata?.namespace ?? '')) continue
    if (e.kinds && !e.kinds.includes(String(subject.kind))) continue
    if (e.names && !e.names.includes(subject.metadata?.name ?? '')) continue
    if (e.matchLabels && !selects(e.matchLabels, labels)) continue
    if (e.expires && Date.parse(e.expires) <= nowMs) out.expired ??= e
    else {
      out.active = e
      break
    }
  }
  return out
}

export const DEFAULT_POLICY: Policy = { rules: {}, exemptNamespaces: [] }

const BY_LEVEL: Record<Severity, Action> = { error: 'deny', warning: 'warn', info: 'off' }

/**
 * Codes whose admission default differs from their level: a missing reference (IST0101) or a
 * subset with no Pods (IST0173) is an error in Istio's analyzers, but objects are often applied
 * before what they reference (one `kubectl apply -f dir/`), and Gateway API controllers keep
 * such routes Accepted; so routeguard warns by default. Set `deny` in the config to block.
 */
const DEFAULT_ACTIONS: Partial<Record<Code, Action>> = {
  IST0101: 'warn',
  // a subset that selects no Pod yet: in a cluster a DestinationRule applied with its Deployment
  // (one `kubectl apply`) is reviewed before the Deployment's Pods exist
  IST0173: 'warn',
  // routes on a JWT claim before its RequestAuthentication (another kind, applied separately) is known
  IST0149: 'warn',
}

export function actionFor(policy: Policy, code: Code): Action {
  return policy.rules[code] ?? DEFAULT_ACTIONS[code] ?? BY_LEVEL[CATALOGUE[code].level]
}

/**
 * Splits deny findings by the policy exceptions (`exceptionFor` at `nowMs`): those an active
 * exception lets through (`excepted`, with the codes each exception let through), the rest
 * (`deny`), and one line per finding that an expired exception would have let through.
 */
export function splitExceptions(
  policy: Policy,
  subject: K8sObject,
  deny: Finding[],
  nowMs: number,
): { deny: Finding[]; excepted: Finding[]; codesByException: Map<string, Set<string>>; expired: string[] } {
  const out = { deny: [] as Finding[], excepted: [] as Finding[], codesByException: new Map<string, Set<string>>(), expired: [] as string[] }
  for (const f of deny) {
    const { active, expired } = exceptionFor(policy, f.code, subject, nowMs)
    if (active) {
      out.excepted.push(f)
      let codes = out.codesByException.get(active.name)
      if (!codes) out.codesByException.set(active.name, (codes = new Set()))
      codes.add(f.code)
    } else {
      out.deny.push(f)
      if (expired) out.expired.push(`routeguard: exception ${expired.name} would let ${f.code} through but expired at ${expired.expires}`)
    }
  }
  return out
}

/** Splits findings into the ones that deny and the ones that only warn. */
export function decide(policy: Policy, namespace: string, findings: Finding[]): { deny: Finding[]; warn: Finding[] } {
  if (policy.exemptNamespaces.includes(namespace)) return { deny: [], warn: [] }
  const deny: Finding[] = []
  const warn: Finding[] = []
  for (const f of findings) {
    const a = actionFor(policy, f.code)
    if (a === 'deny') deny.push(f)
    else if (a === 'warn') warn.push(f)
  }
  return { deny, warn }
}

/**
 * Findings as admission would act on them, for `routeguard analyze --config` (so that CI and the
 * webhook agree): the severity becomes the action: `deny` → error, `warn` → warning, `off` →
 * dropped; findings about objects in `exemptNamespaces` are dropped, and a deny that an active
 * exception lets through is a warning. `objectOf` finds the finding's object (for the
 * exceptions' kind, name and labels); `nowMs` is the time the exceptions' expiry is judged at.
 */
export function asAdmission<F extends Finding>(policy: Policy, findings: F[], objectOf: (f: F) => K8sObject | undefined, nowMs: number): F[] {
  const out: F[] = []
  for (const f of findings) {
    if (policy.exemptNamespaces.includes(f.resource.namespace)) continue
    const a = actionFor(policy, f.code)
    if (a === 'off') continue
    let severity: Severity = a === 'deny' ? 'error' : 'warning'
    const subject = objectOf(f)
    if (severity === 'error' && subject && exceptionFor(policy, f.code, subject, nowMs).active) severity = 'warning'
    out.push(severity === f.severity ? f : { ...f, severity })
  }
  return out
}

/** Rules whose code the policy does not turn `off`, per policy (a config is read once). */
const ACTIVE = new WeakMap<Policy, readonly Rule[]>()

/**
 * The rules to evaluate at admission: a rule whose findings the policy drops (`off`, e.g.
 * IST0131 and the other info-level hygiene rules by default) costs time and no verdict, so it
 * is not run. `routeguard analyze` and the audit run every rule.
 */
export function admissionRules(policy: Policy): readonly Rule[] {
  let rules = ACTIVE.get(policy)
  if (!rules) ACTIVE.set(policy, (rules = RULES.filter((r) => actionFor(policy, r.code) !== 'off')))
  return rules
}
