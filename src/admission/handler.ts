/**
 * Admission decisions, separate from transport: given an AdmissionRequest and the view, return
 * a Response. The Fastify routes in `server/` only parse, call these, and serialise.
 */
import jsonPatch from 'fast-json-patch'
import type { K8sObject } from '../model/object.js'
import { evaluateBounded, MAX_ADMISSION_FINDINGS_PER_CODE } from '../engine.js'
import { actionFor, admissionRules, decide, type Policy, splitExceptions } from '../policy.js'
import { type ClaimOutcome, type Claims, claimKeys } from '../cluster/claims.js'
import { SUBJECT_KINDS } from '../rules/index.js'
import type { Finding, Implementation } from '../rules/types.js'
import type { View } from '../view/view.js'
import { type AdmissionRequest, oldSubjectOf, requestApiVersion, requestKindKey, subjectOf } from './review.js'
import { splitExistingViolations } from './existing.js'
import { MAX_WARNING_LENGTH, Response } from './response.js'
import { shorten } from '../model/text.js'
import { DeadlineExceeded, withDeadline } from '../deadline.js'
import { describeRef, kindKeyOf, kindKeysNamed, nameOf, nsOf, refOf } from '../model/object.js'
import { IMPACT_KINDS } from '../impact/classes.js'
import { admissionImpact, type Impact, moveLines } from '../impact/impact.js'
import { trafficTakeovers } from '../rules/conflicts/traffic-takeover.js'
import { ClusterView } from '../view/view.js'
import { pendingSince } from '../view/pending.js'

export { BadReview } from './review.js'

export type Decision = 'allowed' | 'denied' | 'warned' | 'errored' | 'patched'

export interface Outcome {
  response: Response
  decision: Decision
  findings: Finding[]
  /** the object under review, for logs (described only when a log line is written) */
  subject?: K8sObject
}

export interface HandlerDeps {
  view: View
  policy: Policy
  /** Fail → deny, Ignore → allow, when the object under review cannot be read */
  failurePolicy: 'Fail' | 'Ignore'
  /**
   * Called for every admitted, non-dryRun change (standalone mode keeps its view this way).
   * In cluster mode informers update the view instead and this is absent.
   */
  record?: (operation: AdmissionRequest['operation'], object: K8sObject, user?: string) => void
  /** When the view is not ready, the reason; the request is answered per `unsyncedPolicy`. */
  notReady?: () => string | undefined
  unsyncedPolicy?: 'deny' | 'allow'
  /** the Gateway API implementation RG0301 judges against (default: Istio) */
  implementation?: Implementation
  /** the clock policy exceptions expire by (ms since the epoch; default Date.now) */
  now?: () => number
  /**
   * ms one review may hold the event loop while it is judged (default REVIEW_DEADLINE_MS); past
   * it the review is answered per `failurePolicy` as too large to judge (see deadline.ts)
   */
  reviewDeadlineMs?: number
  /**
   * Cluster mode with `--claims`: before a CREATE or UPDATE (not dryRun) is admitted, the keys
   * it holds for deny-level conflict rules are claimed as Leases in the API server (see
   * cluster/claims.ts); another replica's live claim denies it.
   */
  claims?: Pick<Claims, 'claim'>
  /**
   * Trace the requests an admitted write moves (impact/impact.ts: the `traffic:` warning, RG0106);
   * default true. Off only to measure what it adds (`npm run bench`, section `impact`).
   */
  trafficImpact?: boolean
  /** counts claim outcomes (metrics) */
  onClaim?: (result: ClaimOutcome['result'] | 'skipped-too-many') => void
}

/**
 * Default review deadline, ms (100). Parsing is bounded apart (the JSON value count of
 * server/json.ts, ~50 ms at its limit) and the server yields between parsing a large body and
 * judging it, so no review holds the event loop much past 100 ms at a stretch on a 2-core
 * machine: /healthz, SIGTERM and the other reviews are served in between.
 */
export const REVIEW_DEADLINE_MS = 100

/**
 * A /mutate step: returns the object to admit (the same object when nothing changes; never
 * changed in place: a new object that shares what it keeps) and warnings for the user. Must
 * not throw for bad objects; may do bounded I/O (generated Services).
 */
export type Mutator = (object: K8sObject, req: AdmissionRequest, deps: HandlerDeps) => Promise<{ object: K8sObject; warnings: string[] }>

/** Deny messages listed in one answer at most; the rest are counted. */
export const MAX_DENY_MESSAGES = 10

/** Characters of the `warnings` audit annotation at most (the whole warning texts, as JSON). */
export const MAX_WARNINGS_ANNOTATION = 16 * 1024

/** /validate: run the rules on the object under review and decide. Never throws for bad objects. */
export function validate(req: AdmissionRequest, deps: HandlerDeps): Outcome & { admitted?: K8sObject } {
  const outcome = judgeInTime(req, deps)
  if (outcome.admitted && !req.dryRun) deps.record?.(req.operation, outcome.admitted, userOf(req))
  return outcome
}

function userOf(req: AdmissionRequest): string {
  return typeof req.userInfo?.username === 'string' ? req.userInfo.username : ''
}

/** The conflict rules whose keys are claimed, when the policy denies them. */
const CLAIMED_CODES = ['IST0109', 'RG0101', 'RG0103'] as const

/**
 * /validate with claims (cluster mode, `--claims`): `validate`, and for an admitted CREATE or
 * UPDATE (not dryRun) the claim of its conflict keys before the answer. The object is recorded
 * as pending at once (so that this replica's next reviews see it while the claim is under way)
 * and dropped again when the claim is lost or fails. A lost claim denies, naming the other
 * object ("admitted by another replica N ms ago, not stored yet"); a claim the API server does
 * not answer within the claim timeout follows `failurePolicy` (Fail: 503; Ignore: admitted with
 * a warning). Never throws for bad objects.
 */
export async function validateWithClaims(req: AdmissionRequest, deps: HandlerDeps): Promise<Outcome> {
  const outcome = validate(req, deps)
  const obj = outcome.admitted
  if (!deps.claims || !obj || req.dryRun || (req.operation !== 'CREATE' && req.operation !== 'UPDATE')) return outcome
  // objects in exempt namespaces are never judged, so never denied by a claim either
  if (deps.policy.exemptNamespaces.includes(obj.metadata?.namespace ?? '')) return outcome
  const codes = new Set<string>(CLAIMED_CODES.filter((c) => actionFor(deps.policy, c) === 'deny'))
  const { keys, tooMany } = claimKeys(obj, codes)
  if (tooMany) deps.onClaim?.('skipped-too-many')
  if (!keys.length) return outcome
  const r = await deps.claims.claim(obj, keys)
  deps.onClaim?.(r.result)
  if (r.result === 'claimed') return outcome
  const subject = shorten(describeRef(refOf(obj)))
  const msg = r.result === 'error' ? `routeguard: could not claim ${subject}'s conflict keys in the API server (${r.error}); without the claim another replica could admit a conflicting object at the same moment` : ''
  if (r.result === 'error' && deps.failurePolicy === 'Ignore') return { ...outcome, response: Response.allowed().withWarnings(msg), decision: 'warned' }
  // not admitted after all: this replica stops judging against it
  deps.record?.('DELETE', obj)
  if (r.result === 'conflict') {
    const kindName = r.holderKind.slice(r.holderKind.indexOf('/') + 1) || 'object'
    const msg = `${r.key.code}: ${subject} conflicts with ${kindName} ${shorten(r.holder)} on ${shorten(r.key.describe)}: ${kindName} ${shorten(r.holder)} was admitted by another replica ${r.ageMs} ms ago and is not stored yet. Retry in a few seconds: once it is stored, the full finding names the match.`
    return { response: Response.denied(msg).withAuditAnnotations({ findings: r.key.code, claim: 'conflict' }), decision: 'denied', findings: [], subject: obj }
  }
  return { response: Response.errored(503, msg), decision: 'errored', findings: [], subject: obj }
}

/** An Outcome and the object to record in a standalone view when the review is admitted. */
type Judged = Outcome & { admitted?: K8sObject }

/**
 * `judge` under the review deadline: past it, the answer `tooLargeToJudge` gives (nothing is
 * recorded: the object was not judged).
 * @throws BadReview when the review contradicts itself
 */
function judgeInTime(req: AdmissionRequest, deps: HandlerDeps): Judged {
  const ms = deps.reviewDeadlineMs ?? REVIEW_DEADLINE_MS
  try {
    return withDeadline(ms, () => judge(req, deps))
  } catch (e) {
    if (!(e instanceof DeadlineExceeded)) throw e
    return tooLargeToJudge(deps, describeReviewed(req), `judging it ran past the ${ms} ms review deadline`)
  }
}

/**
 * `Kind namespace/name` of the object a request names (`<unnamed>` before the API server names
 * it), shortened for messages; read from the request, not the object (which may be unreadable).
 */
export function describeReviewed(req: { kind?: unknown; namespace?: unknown; name?: unknown }): string {
  const kind = typeof (req.kind as { kind?: unknown } | undefined)?.kind === 'string' ? (req.kind as { kind: string }).kind : 'object'
  const ns = typeof req.namespace === 'string' && req.namespace ? `${req.namespace}/` : ''
  return shorten(`${kind} ${ns}${typeof req.name === 'string' && req.name ? req.name : '<unnamed>'}`)
}

/**
 * The answer for a review routeguard could not judge within its budget (the review deadline,
 * or the JSON value limit of server/json.ts): per `failurePolicy`, Ignore admits it with a
 * warning, Fail refuses it with HTTP 413; either way the message names the object and says why.
 * `routeguard analyze` (no deadline) judges such an object in CI.
 */
export function tooLargeToJudge(deps: Pick<HandlerDeps, 'failurePolicy'>, what: string, why: string): Outcome {
  const msg = `routeguard: ${what} is too large to judge at admission: ${why}. Split it into smaller objects, or judge it with routeguard analyze`
  if (deps.failurePolicy === 'Ignore') return { response: Response.allowed().withWarnings(msg), decision: 'warned', findings: [] }
  return { response: Response.errored(413, msg), decision: 'errored', findings: [] }
}

/**
 * The decision of /validate, without recording it. Only kinds some rule is evaluated for are
 * judged (and so recorded); others are allowed as they are.
 * @throws BadReview when the review contradicts itself
 */
function judge(req: AdmissionRequest, deps: HandlerDeps): Judged {
  if (req.operation === 'CONNECT') return { response: Response.allowed(), decision: 'allowed', findings: [] }
  const checked = SUBJECT_KINDS.has(requestKindKey(req))
  if (req.operation === 'DELETE') {
    // a DELETE is always admitted (removing an object never makes a conflict); the API server
    // may send oldObject null (older servers, some subresources): the identity is in the request
    const old = subjectOf(req)
    const object = 'object' in old ? old.object : identityOf(req)
    return { response: Response.allowed(), decision: 'allowed', findings: [], subject: object, admitted: checked && object ? object : undefined }
  }
  const subject = subjectOf(req)
  if ('error' in subject) return unreadable(subject.error, deps)
  const object = subject.object
  if (!checked) return { response: Response.allowed(), decision: 'allowed', findings: [], subject: object }
  const notReady = deps.notReady?.()
  if (notReady !== undefined) {
    const msg = `routeguard: the cluster view is not ready (${notReady})`
    const response = deps.unsyncedPolicy === 'allow' ? Response.allowed().withWarnings(msg) : Response.errored(503, msg)
    return { response, decision: deps.unsyncedPolicy === 'allow' ? 'warned' : 'errored', findings: [], subject: object }
  }
  const namespace = object.metadata?.namespace ?? ''
  if (deps.policy.exemptNamespaces.includes(namespace)) {
    return { response: Response.allowed(), decision: 'allowed', findings: [], subject: object, admitted: object }
  }
  const opts = { mode: 'admission', implementation: deps.implementation, rules: admissionRules(deps.policy) } as const
  const evaluated = evaluateBounded(object, deps.view, opts, MAX_ADMISSION_FINDINGS_PER_CODE)
  const { cut, suppressed } = evaluated
  // the requests this write moves (and RG0106 for those taken from another namespace's hostname)
  const impact = trafficImpact(req, object, deps)
  const findings = impact ? [...evaluated.findings, ...trafficTakeovers(object, impact, deps.policy.ownership, deps.view).filter((f) => !suppressed.includes(f.code))] : evaluated.findings
  let { deny, warn } = decide(deps.policy, namespace, findings)
  const codes = new Set<string>()
  for (const f of findings) codes.add(f.code)
  const annotations: Record<string, string> = codes.size ? { findings: [...codes].join(',') } : {}
  if (cut) annotations['findings-cut'] = String(cut)
  if (suppressed.length) annotations.suppressed = suppressed.join(',')
  const notes: string[] = []
  if (deny.length && req.operation === 'UPDATE' && deps.policy.allowExistingViolations !== false) {
    const old = oldSubjectOf(req)
    if ('object' in old) {
      const split = splitExistingViolations(object, old.object, deny, deps.view, opts)
      if (split.kept.length) {
        deny = split.deny
        warn = [...split.kept, ...warn]
        const kept = [...new Set(split.kept.map((f) => f.code))].join(',')
        annotations['existing-violations'] = kept
        notes.push(`routeguard: ${kept} already held before this UPDATE and only warn (allowExistingViolations)`)
      }
    }
  }
  // policy exceptions: what one lets through warns, with its name; an expired one is said in the denial
  let expiredNotes: string[] = []
  if (deny.length && deps.policy.exceptions?.length) {
    const split = splitExceptions(deps.policy, object, deny, (deps.now ?? Date.now)())
    deny = split.deny
    warn = [...split.excepted, ...warn]
    expiredNotes = split.expired
    for (const [name, codes] of split.codesByException) notes.push(`routeguard: ${[...codes].join(',')} only warn: policy exception ${name}`)
    if (split.codesByException.size) annotations.exceptions = [...split.codesByException.keys()].join(',')
  }
  const warnings = [...notes, ...warn.map((f) => f.message)]
  // the whole text of every warning, for the audit log (warnings are cut at 256 characters)
  if (warn.length) annotations.warnings = shorten(JSON.stringify(warn.slice(0, MAX_DENY_MESSAGES * 10).map((f) => f.message)), MAX_WARNINGS_ANNOTATION)
  if (deny.length) {
    const extra = [...new Set(expiredNotes), ...exemptNotes(deps.policy, deny), ...pendingNotes(deny, deps.view, (deps.now ?? Date.now)())]
    const response = Response.denied(denyMessage(deny, cut, extra)).addWarnings(warnings).withAuditAnnotations(annotations)
    return { response, decision: 'denied', findings, subject: object }
  }
  const traffic = impact ? trafficWarning(impact) : undefined
  if (traffic) {
    warnings.push(traffic.warning)
    annotations.traffic = traffic.annotation
  }
  const response = Response.allowed().addWarnings(warnings).withAuditAnnotations(annotations)
  return { response, decision: warn.length || traffic ? 'warned' : 'allowed', findings, subject: object, admitted: object }
}

/** Requests a `traffic:` warning names at most; the audit annotation lists up to MAX_TRAFFIC_LINES. */
export const TRAFFIC_WARNING_REQUESTS = 3
export const MAX_TRAFFIC_LINES = 100
/** characters of one line of the `traffic` audit annotation, and of that annotation in all */
const MAX_TRAFFIC_LINE = 512
const MAX_TRAFFIC_ANNOTATION = 4 * 1024

/**
 * The impact of an admitted CREATE or UPDATE of a routing kind (impact/impact.ts) on the view,
 * within half the review deadline; undefined for other operations and kinds, and where the view
 * is not a ClusterView (nothing to try the change on).
 */
function trafficImpact(req: AdmissionRequest, object: K8sObject, deps: HandlerDeps): Impact | undefined {
  if ((req.operation !== 'CREATE' && req.operation !== 'UPDATE') || deps.trafficImpact === false) return undefined
  const kind = kindKeyOf(object)
  if (!kind || !IMPACT_KINDS.has(kind) || !(deps.view instanceof ClusterView)) return undefined
  const stored = deps.view.get(kind, nsOf(object), nameOf(object))
  return admissionImpact(deps.view, { ...(stored ? { before: stored } : {}), after: object }, { budgetMs: (deps.reviewDeadlineMs ?? REVIEW_DEADLINE_MS) / 2 })
}

/**
 * `traffic: GET http://shop.example.com/checkout: HTTPRoute team-a/shop rule 0 → HTTPRoute
 * team-b/checkout rule 0 (and 4 more request classes)`: up to TRAFFIC_WARNING_REQUESTS requests
 * and the count, and what was not evaluated; the audit annotation holds every line (bounded).
 * Undefined when nothing moves and everything was evaluated.
 */
function trafficWarning(impact: Impact): { warning: string; annotation: string } | undefined {
  // admissionImpact's moves are of requests somebody served before: nothing is said of a new
  // hostname's requests (`routeguard diff` lists them)
  const all = moveLines(impact.moves).map((l) => shorten(l, MAX_TRAFFIC_LINE))
  const lines = [...all]
  const skipped = impact.total - impact.evaluated
  if (lines.length === 0 && skipped === 0) return undefined
  // as many requests as fit the API server's 256 characters per warning, at least one, at most three
  const say = (n: number) => {
    const more = lines.length - n
    const tail = [...(more > 0 ? [`and ${more} more request class${more > 1 ? 'es' : ''}`] : []), ...(skipped > 0 ? [`${skipped} of ${impact.total} request classes not evaluated (over the class cap or the time budget of impact)`] : [])]
    return `traffic: ${lines.slice(0, n).join('; ') || 'no request moves among those evaluated'}${tail.length ? ` (${tail.join('; ')})` : ''}`
  }
  let n = Math.min(TRAFFIC_WARNING_REQUESTS, lines.length)
  while (n > 1 && say(n).length > MAX_WARNING_LENGTH) n--
  // one request that does not fit is shortened, so that the count at the end is kept
  if (n === 1 && say(1).length > MAX_WARNING_LENGTH) lines[0] = shorten(lines[0]!, Math.max(40, MAX_WARNING_LENGTH - (say(1).length - lines[0]!.length)))
  const warning = say(n)
  return { warning, annotation: shorten(JSON.stringify(all.slice(0, MAX_TRAFFIC_LINES)), MAX_TRAFFIC_ANNOTATION) }
}

/** The first MAX_DENY_MESSAGES deny messages, one a line, then how many more findings there were, then `extra` notes. */
function denyMessage(deny: Finding[], cut: number, extra: string[] = []): string {
  const lines: string[] = []
  for (let i = 0; i < deny.length && i < MAX_DENY_MESSAGES; i++) lines.push(deny[i]!.message)
  const more = deny.length - lines.length + cut
  if (more > 0) lines.push(`... and ${more} more finding(s)`)
  for (const e of extra) lines.push(e)
  return lines.join('\n')
}

/**
 * `exemptNamespaces` works one way: objects in an exempt namespace are never judged, but they
 * still count against others (they are in the view, and the data plane serves them). A denial
 * caused by such an object says so, naming the namespace.
 */
function exemptNotes(policy: Policy, deny: Finding[]): string[] {
  if (policy.exemptNamespaces.length === 0) return []
  const namespaces = new Set<string>()
  for (const f of deny) for (const r of f.related) if (policy.exemptNamespaces.includes(r.namespace)) namespaces.add(r.namespace)
  return [...namespaces].map(
    (ns) => `routeguard: objects in namespace ${ns} are exempt (exemptNamespaces): their own writes are not checked, but they still count against other objects, as the data plane still serves them`,
  )
}

/**
 * A denial that rests on an object this replica admitted and the informers have not delivered
 * (a pending write, view/pending.ts) says so: the object may never be stored (another webhook
 * or etcd refused it, or the review was forged), and the denial lifts when it expires.
 */
function pendingNotes(deny: Finding[], view: View, now: number): string[] {
  const notes = new Set<string>()
  for (const f of deny) {
    for (const r of f.related) {
      for (const key of kindKeysNamed(r.kind)) {
        const o = view.get(key, r.namespace, r.name)
        const since = o ? pendingSince(o) : undefined
        if (since === undefined) continue
        notes.add(`routeguard: ${shorten(describeRef(r))} was admitted ${Math.max(0, now - since)} ms ago and is not stored yet (pending until the API server's watch shows it, for a few seconds at most)`)
      }
    }
  }
  return [...notes].slice(0, MAX_DENY_MESSAGES)
}

/**
 * /mutate: judge the object as /validate would (without recording it); an object /validate will
 * deny gets no patch and causes no write. Otherwise apply the mutators and answer with the
 * JSONPatch between before and after.
 * @throws BadReview when the review contradicts itself
 */
export async function mutate(req: AdmissionRequest, deps: HandlerDeps, mutators: readonly Mutator[]): Promise<Outcome> {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') {
    return { response: Response.allowed(), decision: 'allowed', findings: [] }
  }
  // the traffic warning is /validate's to give; the impact runs here only when RG0106 can deny
  const judged = judgeInTime(req, deps.policy.ownership ? deps : { ...deps, trafficImpact: false })
  if (judged.decision === 'denied' || judged.decision === 'errored') {
    // nothing is generated for an object the API server will not store; /validate says why
    return { response: Response.allowed(), decision: 'allowed', findings: judged.findings, subject: judged.subject }
  }
  // judge read the object already; without one (unreadable, failurePolicy Ignore) its outcome stands
  const object = judged.subject
  if (!object) return judged
  // mutators never change an object in place: they return a new one sharing what they kept
  let mutated: K8sObject = object
  const warnings: string[] = []
  const ms = deps.reviewDeadlineMs ?? REVIEW_DEADLINE_MS
  for (const m of mutators) {
    // the mutator's synchronous part (what to generate) runs under the deadline; its I/O has its own timeouts
    let r
    try {
      r = await withDeadline(ms, () => m(mutated, req, deps))
    } catch (e) {
      if (!(e instanceof DeadlineExceeded)) throw e
      return tooLargeToJudge(deps, shorten(describeRef(refOf(object))), `generating its subset Services ran past the ${ms} ms review deadline`)
    }
    mutated = r.object
    for (const w of r.warnings) warnings.push(w)
  }
  // diff only what a mutator changed: the identity we filled in for rules is not part of the patch
  const patch = changedFields(object, mutated)
  const response = Response.patched(patch).addWarnings(warnings)
  return { response, decision: patch.length ? 'patched' : warnings.length ? 'warned' : 'allowed', findings: [], subject: object }
}

/**
 * The JSONPatch from `before` to `after`, diffing only the top-level fields whose value is not
 * the same object (a mutator that adds an annotation leaves `spec` shared): a 3 MiB spec is
 * never walked to find that it did not change.
 */
function changedFields(before: K8sObject, after: K8sObject): jsonPatch.Operation[] {
  if (before === after) return []
  const a: Record<string, unknown> = {}
  const b: Record<string, unknown> = {}
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (before[k] === after[k]) continue
    if (k in before) a[k] = before[k]
    if (k in after) b[k] = after[k]
  }
  return jsonPatch.compare(a, b)
}

/** The object a request names (kind, namespace, name), without its fields; undefined without a name. */
function identityOf(req: AdmissionRequest): K8sObject | undefined {
  if (!req.name) return undefined
  return { apiVersion: requestApiVersion(req), kind: req.kind.kind, metadata: { name: req.name, ...(req.namespace ? { namespace: req.namespace } : {}) } }
}

function unreadable(reason: string, deps: HandlerDeps): Outcome {
  const msg = `routeguard: cannot read the object under review: ${reason}`
  if (deps.failurePolicy === 'Ignore') {
    return { response: Response.allowed().withWarnings(msg), decision: 'warned', findings: [] }
  }
  return { response: Response.errored(400, msg), decision: 'errored', findings: [] }
}
