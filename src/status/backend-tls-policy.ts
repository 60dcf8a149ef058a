/**
 * Predicted BackendTLSPolicy status, and which policy a Gateway applies to a backend: a model of
 * a controller's behaviour; `rules/gateway-api/backend-tls-policy.ts` reports on it (RG0213) and
 * `routing/gateway-api.ts` (trace) uses `effectiveBackendTLSPolicy` for the TLS a backend gets.
 *
 * Sources (Gateway API v1.6.1, `apis/v1/backendtlspolicy_types.go` and the CRD's field docs):
 * - **Targets** are in the policy's namespace (LocalPolicyTargetReferenceWithSectionName); a core
 *   `Service` target is Extended support. A target that does not exist: `Accepted=False/TargetNotFound`
 *   (predicted only where the view covers Services).
 * - **Conflicts**: policies that select the same target and sectionName are ordered by
 *   creationTimestamp, then `{namespace}/{name}`; each one that does not take precedence is
 *   `Accepted=False/Conflicted`. A policy with a sectionName and one without select different
 *   things: the sectionName one applies to its port, the other to the Service's other ports.
 * - **caCertificateRefs**: a reference to another kind than a core ConfigMap is
 *   `ResolvedRefs=False/InvalidKind`; a ConfigMap that does not exist or has no `ca.crt` key is
 *   `ResolvedRefs=False/InvalidCACertificateRef`; when every reference is invalid, also
 *   `Accepted=False/NoValidCACertificate`. Connections using an invalid reference fail with a 5xx.
 *   Whether a ConfigMap exists is judged only where the view knows that namespace's ConfigMaps
 *   (the cluster's metadata-only informer, or files holding a ConfigMap there), as for Secrets in
 *   `gateway-status.ts`; its content only where the view holds it (files).
 * - **wellKnownCACertificates**: `System` or an implementation-specific, domain-prefixed name;
 *   any other value is `Accepted=False/Invalid`.
 */
import { arr, compareAge, describeRef, type K8sObject, KIND, nsOf, rec, refOf, sameObject, str } from '../model/object.js'
import { finding } from '../rules/messages.js'
import type { Finding } from '../rules/types.js'
import { knowsObjectsIn, type View } from '../view/view.js'

/** A policy status condition (Gateway API `PolicyAncestorStatus.conditions`), without message and times. */
export interface PolicyCondition {
  type: 'Accepted' | 'ResolvedRefs'
  status: 'True' | 'False'
  reason: string
}

/** Predicted conditions of one BackendTLSPolicy, the same for each ancestor, and the RG0213 findings for the False ones. */
export interface BackendTLSPolicyStatus {
  conditions: PolicyCondition[]
  findings: Finding[]
}

/** What a backend gets from the policy that applies to it. */
export interface AppliedBackendTLS {
  policy: K8sObject
  /** `spec.validation.hostname`: the SNI the Gateway sends, and (without subjectAltNames) the name it verifies */
  sni: string | undefined
  /** why connections with this policy fail (a 5xx for the backend's share), when they do */
  invalid?: string
}

interface RefProblem {
  index: number
  reason: 'InvalidKind' | 'InvalidCACertificateRef'
  detail: string
}

/**
 * The invalid `spec.validation.caCertificateRefs` of a policy, in order. A ConfigMap is judged
 * missing only where the view knows ConfigMaps of the policy's namespace (see the module doc).
 */
export function caCertificateProblems(policy: K8sObject, view: View): RefProblem[] {
  const ns = nsOf(policy)
  const refs = arr(rec(rec(policy.spec).validation).caCertificateRefs)
  const out: RefProblem[] = []
  for (let i = 0; i < refs.length; i++) {
    const ref = rec(refs[i])
    const group = str(ref.group) ?? ''
    const kind = str(ref.kind) ?? ''
    const name = str(ref.name) ?? ''
    if (group !== '' || kind !== 'ConfigMap') {
      out.push({ index: i, reason: 'InvalidKind', detail: `${group || 'core'}/${kind} is not a core ConfigMap` })
      continue
    }
    const cm = view.get(KIND.ConfigMap, ns, name)
    if (!cm) {
      if (knowsObjectsIn(view, KIND.ConfigMap, ns)) out.push({ index: i, reason: 'InvalidCACertificateRef', detail: `ConfigMap ${ns}/${name} not found` })
      continue
    }
    const data = (cm as Record<string, unknown>).data
    if (data === undefined) continue // names only (the cluster view): content unknown
    const ca = rec(data)['ca.crt']
    if (typeof ca !== 'string' || ca.trim() === '') out.push({ index: i, reason: 'InvalidCACertificateRef', detail: `ConfigMap ${ns}/${name} has no ca.crt` })
  }
  return out
}

/** Policies in `namespace` with a targetRef to core Service `service` and this `sectionName` (undefined: none). */
function policiesFor(view: View, namespace: string, service: string, sectionName: string | undefined): K8sObject[] {
  const out: K8sObject[] = []
  for (const p of view.backendTLSPoliciesFor(namespace, service)) {
    if (targetsOf(p).some((t) => t.kind === 'Service' && t.group === '' && t.name === service && t.sectionName === sectionName)) out.push(p)
  }
  return out.sort(compareAge)
}

function targetsOf(policy: K8sObject): { group: string; kind: string; name: string; sectionName: string | undefined }[] {
  return arr(rec(policy.spec).targetRefs).map((t) => {
    const r = rec(t)
    return { group: str(r.group) ?? '', kind: str(r.kind) ?? '', name: str(r.name) ?? '', sectionName: str(r.sectionName) }
  })
}

/**
 * The policy a Gateway applies to connections to port `port` (named `portName`) of Service
 * `namespace/service`: the oldest policy whose targetRef names that port's sectionName, else the
 * oldest one that targets the whole Service; undefined when none does. `invalid` is set when a
 * caCertificateRef of it is invalid (the spec: connections using it MUST fail with a 5xx) or its
 * wellKnownCACertificates value is not one an implementation knows.
 */
export function effectiveBackendTLSPolicy(view: View, namespace: string, service: string, portName: string | undefined): AppliedBackendTLS | undefined {
  const policy = (portName ? policiesFor(view, namespace, service, portName)[0] : undefined) ?? policiesFor(view, namespace, service, undefined)[0]
  if (!policy) return undefined
  const validation = rec(rec(policy.spec).validation)
  const sni = str(validation.hostname)
  const problem = caCertificateProblems(policy, view)[0]
  const ref = describeRef(refOf(policy))
  if (problem) return { policy, sni, invalid: `${ref}: ResolvedRefs=False/${problem.reason} (${problem.detail}); connections to the backend fail` }
  const known = wellKnownProblem(validation)
  if (known) return { policy, sni, invalid: `${ref}: Accepted=False/Invalid (${known}); connections to the backend fail` }
  return { policy, sni }
}

function wellKnownProblem(validation: Record<string, unknown>): string | undefined {
  const v = str(validation.wellKnownCACertificates)
  if (v === undefined || v === '' || v === 'System') return undefined
  const slash = v.indexOf('/')
  if (slash > 0 && slash < v.length - 1 && v.slice(0, slash).includes('.')) return undefined // domain-prefixed
  return `wellKnownCACertificates ${v} is neither System nor an implementation-specific, domain-prefixed name`
}

/**
 * The `Accepted` and `ResolvedRefs` conditions a controller would set on `policy` (the same for
 * every ancestor), and the RG0213 findings for the False ones. `olderThan(other)` says whether
 * `other` takes precedence over the policy (at admission every stored policy does).
 */
export function predictBackendTLSPolicyStatus(policy: K8sObject, view: View, olderThan: (other: K8sObject) => boolean): BackendTLSPolicyStatus {
  const findings: Finding[] = []
  const ns = nsOf(policy)
  const fail = (type: PolicyCondition['type'], reason: string, detail: string, where: string, related: K8sObject[] = []): PolicyCondition => {
    findings.push(finding('RG0213', policy, { where, type, reason, detail }, { path: where, reason, related }))
    return { type, status: 'False', reason }
  }
  const problems = caCertificateProblems(policy, view)
  let resolved: PolicyCondition = { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' }
  const first = problems[0]
  if (first) resolved = fail('ResolvedRefs', first.reason, first.detail, `spec.validation.caCertificateRefs[${first.index}]`)
  const refs = arr(rec(rec(policy.spec).validation).caCertificateRefs)
  let accepted: PolicyCondition | undefined
  const targets = targetsOf(policy)
  for (let i = 0; i < targets.length && !accepted; i++) {
    const t = targets[i]!
    const at = `spec.targetRefs[${i}]`
    if (t.group !== '' || t.kind !== 'Service') continue // other kinds are implementation-specific
    if (view.covers(KIND.Service) && !view.get(KIND.Service, ns, t.name)) {
      accepted = fail('Accepted', 'TargetNotFound', `Service ${ns}/${t.name} not found`, at)
      continue
    }
    const winner = policiesFor(view, ns, t.name, t.sectionName).find((p) => !sameObject(p, policy) && olderThan(p))
    if (winner) accepted = fail('Accepted', 'Conflicted', `${describeRef(refOf(winner))} targets Service ${t.name}${t.sectionName ? ` port ${t.sectionName}` : ''} too and takes precedence (older, or first by namespace/name)`, at, [winner])
  }
  if (!accepted && refs.length > 0 && problems.length === refs.length) accepted = fail('Accepted', 'NoValidCACertificate', 'every caCertificateRef is invalid', 'spec.validation.caCertificateRefs')
  const known = wellKnownProblem(rec(rec(policy.spec).validation))
  if (!accepted && known) accepted = fail('Accepted', 'Invalid', known, 'spec.validation.wellKnownCACertificates')
  return { conditions: [accepted ?? { type: 'Accepted', status: 'True', reason: 'Accepted' }, resolved], findings }
}

/** Kinds the predictor reads, for rule metadata. */
export const BACKEND_TLS_POLICY_INPUTS = [KIND.Service, KIND.ConfigMap]
