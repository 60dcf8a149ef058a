/**
 * Predicted Gateway API route status: for each parentRef of an HTTPRoute, GRPCRoute, TLSRoute,
 * TCPRoute or UDPRoute, the `Accepted` and `ResolvedRefs` conditions a conformant controller would set,
 * and a finding (RG0201–RG0208) for each problem, carrying the condition reason. The rules that
 * report it are in `rules/gateway-api/route-status.ts`; `trace`, `convert` and the conformance
 * check read the conditions.
 *
 * Accepted (Gateway API v1.6.1 route status, listener attachment rules):
 * parent missing → RG0201; sectionName/port select no listener (or Service port) → RG0204
 * NoMatchingParent; no selected listener admits the route's kind (allowedRoutes.kinds or the
 * protocol's kinds) and namespace (allowedRoutes.namespaces Same/All/Selector) → RG0202
 * NotAllowedByListeners; no admitting listener's hostname intersects the route's → RG0203
 * NoMatchingListenerHostname; an enum value the API does not define → RG0208 UnsupportedValue.
 * ResolvedRefs: a backendRef kind other than core Service (or Istio Hostname, MCS
 * ServiceImport) → RG0207 InvalidKind; a cross-namespace backendRef of a Gateway route without a
 * ReferenceGrant (GEP-709; mesh routes are exempt, GEP-1294) → RG0206 RefNotPermitted; a missing
 * Service, or a port the Service does not expose → RG0205 BackendNotFound. Broken references
 * never make a route Accepted=False.
 */
import { arr, type K8sObject, KIND, kindKeyOf, nsOf, num, rec, str } from '../model/object.js'
import { effectiveHostnames, isGatewayParent, isServiceParent, type ParentRef, referenceGranted, route, servicePorts, unsupportedFilterValue } from '../model/gatewayapi.js'
import type { View } from '../view/view.js'
import { attach, type RefAttachment } from './attachment.js'
import { finding, listText } from '../rules/messages.js'
import type { Finding } from '../rules/types.js'

export interface Condition {
  type: 'Accepted' | 'ResolvedRefs'
  status: 'True' | 'False' | 'Unknown'
  reason: string
}

export interface PredictedParent {
  parentRef: { group: string; kind: string; namespace: string; name: string; sectionName?: string; port?: number }
  conditions: Condition[]
}

export interface RouteStatus {
  parents: PredictedParent[]
  findings: Finding[]
}

export const ROUTE_KINDS = [KIND.HTTPRoute, KIND.GRPCRoute, KIND.TLSRoute, KIND.TCPRoute, KIND.UDPRoute]
const PATH_TYPES = new Set(['Exact', 'PathPrefix', 'RegularExpression'])
const MATCH_TYPES = new Set(['Exact', 'RegularExpression'])
const MATCH_LISTS = ['headers', 'queryParams'] as const
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'])
const FILTER_TYPES = new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'RequestRedirect', 'URLRewrite', 'ExtensionRef', 'CORS', 'ExternalAuth'])
const BACKEND_KINDS = new Set(['/Service', 'networking.istio.io/Hostname', 'multicluster.x-k8s.io/ServiceImport'])

/**
 * Predicts the route's status per parentRef. Pure.
 * @param attachments the subject's attachment per Gateway parentRef when already computed
 *   (`subjectAttachments` in an evaluation); otherwise it is computed here
 */
export function predictRouteStatus(subject: K8sObject, view: View, attachments?: ReadonlyMap<ParentRef, RefAttachment>): RouteStatus {
  const r = route(subject)
  const kind = r.kind
  const findings: Finding[] = []
  const unsupported = unsupportedValues(subject, findings)
  const parents: PredictedParent[] = []
  // ResolvedRefs depends only on whether the parent is a Gateway (mesh routes need no grants)
  let resolvedForGateway: Condition | undefined
  let resolvedForMesh: Condition | undefined
  for (const p of r.parentRefs) {
    let accepted: Condition
    const gatewayParent = isGatewayParent(p)
    if (gatewayParent) accepted = acceptGateway(subject, kind, r.hostnames, attachments?.get(p) ?? attach(view, r, p), view, findings)
    else if (isServiceParent(p)) accepted = acceptService(subject, p, view, findings)
    else continue // another controller's parent kind
    if (accepted.status === 'True' && unsupported) accepted = { type: 'Accepted', status: 'False', reason: 'UnsupportedValue' }
    const resolved = gatewayParent
      ? (resolvedForGateway ??= resolveRefs(subject, kind, true, view, findings))
      : (resolvedForMesh ??= resolveRefs(subject, kind, false, view, findings))
    const parentRef: PredictedParent['parentRef'] = { group: p.group, kind: p.kind, namespace: p.namespace, name: p.name }
    if (p.sectionName) parentRef.sectionName = p.sectionName
    if (p.port !== undefined) parentRef.port = p.port
    parents.push({ parentRef, conditions: [accepted, resolved] })
  }
  return { parents, findings: findings.length > 1 ? dedupe(findings) : findings }
}

/** How messages name a parentRef: `Gateway ns/name section https port 443`. */
function parentText(p: ParentRef): string {
  return `${p.kind} ${p.namespace}/${p.name}${p.sectionName ? ` section ${p.sectionName}` : ''}${p.port !== undefined ? ` port ${p.port}` : ''}`
}

function parentPath(p: ParentRef): string {
  return `spec.parentRefs[${p.index}]`
}

function dedupe(fs: Finding[]): Finding[] {
  const seen = new Set<string>()
  return fs.filter((f) => {
    const k = `${f.code}|${f.path}|${f.message}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

const PENDING: Condition = { type: 'Accepted', status: 'Unknown', reason: 'Pending' }
const ACCEPTED: Condition = { type: 'Accepted', status: 'True', reason: 'Accepted' }
const REFS_RESOLVED: Condition = { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' }

function acceptGateway(subject: K8sObject, kind: string, hostnames: string[], { ref: p, gateway }: RefAttachment, view: View, out: Finding[]): Condition {
  if (!gateway) {
    if (view.covers(KIND.Gateway)) out.push(finding('RG0201', subject, { parent: parentText(p) }, { path: parentPath(p), reason: 'ParentNotFound' }))
    return PENDING
  }
  const { selected, kindAllowed, attached } = gateway
  if (!selected.length) {
    const detail = [p.sectionName !== undefined ? `sectionName ${p.sectionName}` : '', p.port !== undefined ? `port ${p.port}` : ''].filter(Boolean).join(' and ') + ' match no listener'
    out.push(finding('RG0204', subject, { parent: parentText(p), detail }, { path: parentPath(p), reason: 'NoMatchingParent' }))
    return { type: 'Accepted', status: 'False', reason: 'NoMatchingParent' }
  }
  if (!attached.length) {
    const detail = kindAllowed.length ? `namespace ${nsOf(subject)} is not allowed` : `kind ${kind} is not allowed`
    out.push(finding('RG0202', subject, { parent: parentText(p), detail }, { path: parentPath(p), reason: 'NotAllowedByListeners' }))
    return { type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners' }
  }
  if (kind !== 'TCPRoute' && !attached.some((l) => effectiveHostnames(hostnames, l.hostname).length > 0)) {
    out.push(finding('RG0203', subject, { parent: parentText(p), hostnames: listText(hostnames) }, { path: parentPath(p), reason: 'NoMatchingListenerHostname' }))
    return { type: 'Accepted', status: 'False', reason: 'NoMatchingListenerHostname' }
  }
  return ACCEPTED
}

function acceptService(subject: K8sObject, p: ParentRef, view: View, out: Finding[]): Condition {
  const svc = view.get(KIND.Service, p.namespace, p.name)
  if (!svc) {
    if (view.covers(KIND.Service)) out.push(finding('RG0201', subject, { parent: parentText(p) }, { path: parentPath(p), reason: 'ParentNotFound' }))
    return PENDING
  }
  const ports = arr(rec(svc.spec).ports).map(rec)
  const okPort = p.port === undefined || ports.some((x) => num(x.port) === p.port)
  const okSection = p.sectionName === undefined || ports.some((x) => str(x.name) === p.sectionName)
  if (!okPort || !okSection) {
    out.push(finding('RG0204', subject, { parent: parentText(p), detail: 'the Service has no such port' }, { path: parentPath(p), reason: 'NoMatchingParent' }))
    return { type: 'Accepted', status: 'False', reason: 'NoMatchingParent' }
  }
  return ACCEPTED
}

/**
 * Calls `fn` for every backendRef of the route (rule backendRefs and RequestMirror targets);
 * `path()` gives the field path (built only when asked: most references are fine).
 */
function eachBackendRef(subject: K8sObject, fn: (ref: Record<string, unknown>, path: () => string) => void): void {
  const rules = arr(rec(subject.spec).rules)
  for (let i = 0; i < rules.length; i++) {
    const rule = rec(rules[i])
    const refs = arr(rule.backendRefs)
    for (let j = 0; j < refs.length; j++) fn(rec(refs[j]), () => `spec.rules[${i}].backendRefs[${j}]`)
    const filters = arr(rule.filters)
    for (let j = 0; j < filters.length; j++) {
      const b = rec(rec(filters[j]).requestMirror).backendRef
      if (b !== undefined) fn(rec(b), () => `spec.rules[${i}].filters[${j}].requestMirror.backendRef`)
    }
  }
}

function resolveRefs(subject: K8sObject, kind: string, gatewayParent: boolean, view: View, out: Finding[]): Condition {
  const routeNs = nsOf(subject)
  let reason: string | undefined
  eachBackendRef(subject, (ref, pathOf) => {
    const group = str(ref.group) ?? ''
    const bkind = str(ref.kind) ?? 'Service'
    const name = str(ref.name) ?? ''
    const ns = str(ref.namespace) ?? routeNs
    if (!(bkind === 'Service' ? group === '' : BACKEND_KINDS.has(`${group}/${bkind}`))) {
      const path = pathOf()
      out.push(finding('RG0207', subject, { path, backendKind: `${group || 'core'}/${bkind}` }, { path, reason: 'InvalidKind' }))
      reason ??= 'InvalidKind'
      return
    }
    if (bkind !== 'Service') return
    if (ns !== routeNs && gatewayParent && !granted(view, ns, routeNs, kind, name)) {
      const path = pathOf()
      out.push(finding('RG0206', subject, { path, namespace: ns, kind, backend: `Service ${ns}/${name}` }, { path, reason: 'RefNotPermitted' }))
      reason ??= 'RefNotPermitted'
      return
    }
    const service = view.get(KIND.Service, ns, name)
    if (!service && view.covers(KIND.Service)) {
      const path = pathOf()
      out.push(finding('RG0205', subject, { path, backend: `Service ${ns}/${name}` }, { path, reason: 'BackendNotFound' }))
      reason ??= 'BackendNotFound'
      return
    }
    // a port the Service does not expose resolves to nothing either (its share of requests fails)
    const port = num(ref.port)
    if (service && port !== undefined && !servicePorts(service).includes(port)) {
      const path = pathOf()
      out.push(finding('RG0205', subject, { path, backend: `Service ${ns}/${name} port ${port} (the Service has ${listText(servicePorts(service).map(String)) || 'no ports'})` }, { path, reason: 'BackendNotFound' }))
      reason ??= 'BackendNotFound'
    }
  })
  return reason ? { type: 'ResolvedRefs', status: 'False', reason } : REFS_RESOLVED
}

/** Does a ReferenceGrant in `targetNs` let a `kind` in `fromNs` reference Service `name`? (GEP-709) */
function granted(view: View, targetNs: string, fromNs: string, kind: string, name: string): boolean {
  return referenceGranted((ns) => view.referenceGrantsIn(ns), targetNs, kind, fromNs, 'Service', name)
}

function unsupportedValues(subject: K8sObject, out: Finding[]): boolean {
  if (kindKeyOf(subject) !== KIND.HTTPRoute) return false
  const before = out.length
  const flag = (path: string, value: string) => out.push(finding('RG0208', subject, { path, value }, { path, reason: 'UnsupportedValue' }))
  const rules = arr(rec(subject.spec).rules)
  for (let i = 0; i < rules.length; i++) {
    const rule = rec(rules[i])
    const matches = arr(rule.matches)
    for (let j = 0; j < matches.length; j++) {
      const m = rec(matches[j])
      const at = () => `spec.rules[${i}].matches[${j}]`
      const pt = str(rec(m.path).type)
      if (pt !== undefined && !PATH_TYPES.has(pt)) flag(`${at()}.path.type`, pt)
      for (const field of MATCH_LISTS) {
        const entries = arr(m[field])
        for (let k = 0; k < entries.length; k++) {
          const t = str(rec(entries[k]).type)
          if (t !== undefined && !MATCH_TYPES.has(t)) flag(`${at()}.${field}[${k}].type`, t)
        }
      }
      const method = str(m.method)
      if (method !== undefined && !METHODS.has(method)) flag(`${at()}.method`, method)
    }
    const filters = arr(rule.filters)
    for (let j = 0; j < filters.length; j++) {
      const t = str(rec(filters[j]).type)
      if (t !== undefined && !FILTER_TYPES.has(t)) flag(`spec.rules[${i}].filters[${j}].type`, t)
      const bad = unsupportedFilterValue(filters[j])
      if (bad) flag(`spec.rules[${i}].filters[${j}].${bad[0]}`, bad[1])
    }
  }
  return out.length > before
}
