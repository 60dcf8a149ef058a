/**
 * Admission decisions, separate from transport: given an AdmissionRequest and the view, return
 * a Response. The Fastify routes in `server/` only parse, call these, and serialise.
 */
import jsonPatch from 'fast-json-patch'
import type { K8sObject } from '../model/object.js'
import { evaluate } from '../engine.js'
import { decide, type Policy } from '../policy.js'
import { SUBJECT_KINDS } from '../rules/index.js'
import type { Finding, Implementation } from '../rules/types.js'
import type { View } from '../view/view.js'
import { type AdmissionRequest, requestKindKey, subjectOf } from './review.js'
import { Response } from './response.js'

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
  record?: (operation: AdmissionRequest['operation'], object: K8sObject) => void
  /** When the view is not ready, the reason; the request is answered per `unsyncedPolicy`. */
  notReady?: () => string | undefined
  unsyncedPolicy?: 'deny' | 'allow'
  /** the Gateway API implementation RG0301 judges against (default: Istio) */
  implementation?: Implementation
}

/**
 * A /mutate step: returns the object to admit (the same object when nothing changes) and
 * warnings for the user. Must not throw for bad objects; may do bounded I/O (generated Services).
 */
export type Mutator = (object: K8sObject, req: AdmissionRequest, deps: HandlerDeps) => Promise<{ object: K8sObject; warnings: string[] }>

/** /validate: run the rules on the object under review and decide. Never throws for bad objects. */
export function validate(req: AdmissionRequest, deps: HandlerDeps): Outcome {
  if (req.operation === 'CONNECT') return { response: Response.allowed(), decision: 'allowed', findings: [] }
  const subject = subjectOf(req)
  if ('error' in subject) return unreadable(subject.error, deps)
  const object = subject.object
  if (req.operation === 'DELETE') {
    if (!req.dryRun) deps.record?.('DELETE', object)
    return { response: Response.allowed(), decision: 'allowed', findings: [], subject: object }
  }
  if (!SUBJECT_KINDS.has(requestKindKey(req))) {
    if (!req.dryRun) deps.record?.(req.operation, object)
    return { response: Response.allowed(), decision: 'allowed', findings: [], subject: object }
  }
  const notReady = deps.notReady?.()
  if (notReady !== undefined) {
    const msg = `routeguard: the cluster view is not ready (${notReady})`
    const response = deps.unsyncedPolicy === 'allow' ? Response.allowed().withWarnings(msg) : Response.errored(503, msg)
    return { response, decision: deps.unsyncedPolicy === 'allow' ? 'warned' : 'errored', findings: [], subject: object }
  }
  const findings = evaluate(object, deps.view, { mode: 'admission', implementation: deps.implementation })
  const { deny, warn } = decide(deps.policy, object.metadata?.namespace ?? '', findings)
  const codes: string[] = []
  for (const f of findings) if (!codes.includes(f.code)) codes.push(f.code)
  const annotations: Record<string, string> = codes.length ? { findings: codes.join(',') } : {}
  if (deny.length) {
    const response = Response.denied(deny.map((f) => f.message).join('\n'))
      .withWarnings(...warn.map((f) => f.message))
      .withAuditAnnotations(annotations)
    return { response, decision: 'denied', findings, subject: object }
  }
  if (!req.dryRun) deps.record?.(req.operation, object)
  const response = Response.allowed().withWarnings(...warn.map((f) => f.message)).withAuditAnnotations(annotations)
  return { response, decision: warn.length ? 'warned' : 'allowed', findings, subject: object }
}

/** /mutate: apply the mutators and answer with the JSONPatch between before and after. */
export async function mutate(req: AdmissionRequest, deps: HandlerDeps, mutators: readonly Mutator[]): Promise<Outcome> {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') {
    return { response: Response.allowed(), decision: 'allowed', findings: [] }
  }
  const subject = subjectOf(req)
  if ('error' in subject) return unreadable(subject.error, deps)
  let mutated: K8sObject = jsonPatch.deepClone(subject.object) as K8sObject
  const warnings: string[] = []
  for (const m of mutators) {
    const r = await m(mutated, req, deps)
    mutated = r.object
    warnings.push(...r.warnings)
  }
  // diff only what a mutator changed: the identity we filled in for rules is not part of the patch
  const patch = jsonPatch.compare(subject.object, mutated)
  const response = Response.patched(patch).withWarnings(...warnings)
  return { response, decision: patch.length ? 'patched' : warnings.length ? 'warned' : 'allowed', findings: [], subject: subject.object }
}

function unreadable(reason: string, deps: HandlerDeps): Outcome {
  const msg = `routeguard: cannot read the object under review: ${reason}`
  if (deps.failurePolicy === 'Ignore') {
    return { response: Response.allowed().withWarnings(msg), decision: 'warned', findings: [] }
  }
  return { response: Response.errored(400, msg), decision: 'errored', findings: [] }
}
