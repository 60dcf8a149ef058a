/**
 * Predicted Gateway API route status: for each parentRef of an HTTPRoute, GRPCRoute, TLSRoute
 * or TCPRoute, the `Accepted` and `ResolvedRefs` conditions a conformant controller would set,
 * and a finding (RG0201–RG0208) for each problem, carrying the condition reason.
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
 * Service → RG0205 BackendNotFound. Broken references never make a route Accepted=False.
 */
import { arr, type K8sObject, KIND, kindKeyOf, nsOf, num, rec, str } from '../model/object.js'
import { attachment, effectiveHostnames, GATEWAY_GROUP, isGatewayParent, isServiceParent, type ParentRef, route } from '../model/gatewayapi.js'
import type { View } from '../view/view.js'
import { finding } from './messages.js'
import { analyzerRules, type Finding } from './types.js'

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

export const ROUTE_KINDS = [KIND.HTTPRoute, KIND.GRPCRoute, KIND.TLSRoute, KIND.TCPRoute]
const PATH_TYPES = new Set(['Exact', 'PathPrefix', 'RegularExpression'])
const MATCH_TYPES = new Set(['Exact', 'RegularExpression'])
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'])
const FILTER_TYPES = new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'RequestRedirect', 'URLRewrite', 'ExtensionRef', 'CORS', 'ExternalAuth'])
const BACKEND_KINDS = new Set(['/Service', 'networking.istio.io/Hostname', 'multicluster.x-k8s.io/ServiceImport'])

/** Predicts the route's status per parentRef. Pure. */
export function predictRouteStatus(subject: K8sObject, view: View): RouteStatus {
  const r = route(subject)
  const kind = r.kind
  const findings: Finding[] = []
  const unsupported = unsupportedValues(subject, findings)
  const parents: PredictedParent[] = []
  // ResolvedRefs depends only on whether the parent is a Gateway (mesh routes need no grants)
  const resolvedFor = new Map<boolean, Condition>()
  for (const p of r.parentRefs) {
    const parentText = `${p.kind} ${p.namespace}/${p.name}${p.sectionName ? ` section ${p.sectionName}` : ''}${p.port !== undefined ? ` port ${p.port}` : ''}`
    const path = `spec.parentRefs[${p.index}]`
    let accepted: Condition
    if (isGatewayParent(p)) accepted = acceptGateway(subject, kind, r.hostnames, p, parentText, path, view, findings)
    else if (isServiceParent(p)) accepted = acceptService(subject, p, parentText, path, view, findings)
    else continue // another controller's parent kind
    if (accepted.status === 'True' && unsupported) accepted = { type: 'Accepted', status: 'False', reason: 'UnsupportedValue' }
    const gatewayParent = isGatewayParent(p)
    let resolved = resolvedFor.get(gatewayParent)
    if (!resolved) resolvedFor.set(gatewayParent, (resolved = resolveRefs(subject, kind, gatewayParent, view, findings)))
    parents.push({ parentRef: { group: p.group, kind: p.kind, namespace: p.namespace, name: p.name, ...(p.sectionName ? { sectionName: p.sectionName } : {}), ...(p.port !== undefined ? { port: p.port } : {}) }, conditions: [accepted, resolved] })
  }
  return { parents, findings: dedupe(findings) }
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

function acceptGateway(subject: K8sObject, kind: string, hostnames: string[], p: ParentRef, parent: string, path: string, view: View, out: Finding[]): Condition {
  const gw = view.get(KIND.Gateway, p.namespace, p.name)
  if (!gw) {
    if (view.covers(KIND.Gateway)) out.push(finding('RG0201', subject, { parent }, { path, reason: 'ParentNotFound' }))
    return { type: 'Accepted', status: 'Unknown', reason: 'Pending' }
  }
  const { selected, kindAllowed, attached } = attachment(gw, p, kind, nsOf(subject), (ns) => view.namespaceLabels(ns))
  if (!selected.length) {
    const detail = [p.sectionName !== undefined ? `sectionName ${p.sectionName}` : '', p.port !== undefined ? `port ${p.port}` : ''].filter(Boolean).join(' and ') + ' match no listener'
    out.push(finding('RG0204', subject, { parent, detail }, { path, reason: 'NoMatchingParent' }))
    return { type: 'Accepted', status: 'False', reason: 'NoMatchingParent' }
  }
  if (!attached.length) {
    const detail = kindAllowed.length ? `namespace ${nsOf(subject)} is not allowed` : `kind ${kind} is not allowed`
    out.push(finding('RG0202', subject, { parent, detail }, { path, reason: 'NotAllowedByListeners' }))
    return { type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners' }
  }
  if (kind !== 'TCPRoute' && !attached.some((l) => effectiveHostnames(hostnames, l.hostname).length > 0)) {
    out.push(finding('RG0203', subject, { parent, hostnames: hostnames.join(',') }, { path, reason: 'NoMatchingListenerHostname' }))
    return { type: 'Accepted', status: 'False', reason: 'NoMatchingListenerHostname' }
  }
  return { type: 'Accepted', status: 'True', reason: 'Accepted' }
}

function acceptService(subject: K8sObject, p: ParentRef, parent: string, path: string, view: View, out: Finding[]): Condition {
  const svc = view.get(KIND.Service, p.namespace, p.name)
  if (!svc) {
    if (view.covers(KIND.Service)) out.push(finding('RG0201', subject, { parent }, { path, reason: 'ParentNotFound' }))
    return { type: 'Accepted', status: 'Unknown', reason: 'Pending' }
  }
  const ports = arr(rec(svc.spec).ports).map(rec)
  const okPort = p.port === undefined || ports.some((x) => num(x.port) === p.port)
  const okSection = p.sectionName === undefined || ports.some((x) => str(x.name) === p.sectionName)
  if (!okPort || !okSection) {
    out.push(finding('RG0204', subject, { parent, detail: 'the Service has no such port' }, { path, reason: 'NoMatchingParent' }))
    return { type: 'Accepted', status: 'False', reason: 'NoMatchingParent' }
  }
  return { type: 'Accepted', status: 'True', reason: 'Accepted' }
}

/** Every backendRef of the route (rule backendRefs and RequestMirror targets) with its field path. */
function backendRefs(subject: K8sObject): { ref: Record<string, unknown>; path: string }[] {
  const out: { ref: Record<string, unknown>; path: string }[] = []
  arr(rec(subject.spec).rules).forEach((rule, i) => {
    arr(rec(rule).backendRefs).forEach((b, j) => out.push({ ref: rec(b), path: `spec.rules[${i}].backendRefs[${j}]` }))
    arr(rec(rule).filters).forEach((f, j) => {
      const b = rec(rec(f).requestMirror).backendRef
      if (b !== undefined) out.push({ ref: rec(b), path: `spec.rules[${i}].filters[${j}].requestMirror.backendRef` })
    })
  })
  return out
}

function resolveRefs(subject: K8sObject, kind: string, gatewayParent: boolean, view: View, out: Finding[]): Condition {
  const routeNs = nsOf(subject)
  let reason: string | undefined
  for (const { ref, path } of backendRefs(subject)) {
    const group = str(ref.group) ?? ''
    const bkind = str(ref.kind) ?? 'Service'
    const name = str(ref.name) ?? ''
    const ns = str(ref.namespace) ?? routeNs
    if (!BACKEND_KINDS.has(`${group}/${bkind}`)) {
      out.push(finding('RG0207', subject, { path, backendKind: `${group || 'core'}/${bkind}` }, { path, reason: 'InvalidKind' }))
      reason ??= 'InvalidKind'
      continue
    }
    if (bkind !== 'Service') continue
    if (ns !== routeNs && gatewayParent && !granted(view, ns, routeNs, kind, name)) {
      out.push(finding('RG0206', subject, { path, namespace: ns, kind, backend: `Service ${ns}/${name}` }, { path, reason: 'RefNotPermitted' }))
      reason ??= 'RefNotPermitted'
      continue
    }
    if (!view.get(KIND.Service, ns, name) && view.covers(KIND.Service)) {
      out.push(finding('RG0205', subject, { path, backend: `Service ${ns}/${name}` }, { path, reason: 'BackendNotFound' }))
      reason ??= 'BackendNotFound'
    }
  }
  return reason ? { type: 'ResolvedRefs', status: 'False', reason } : { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' }
}

/** Does a ReferenceGrant in `targetNs` let a `kind` in `fromNs` reference Service `name`? (GEP-709) */
function granted(view: View, targetNs: string, fromNs: string, kind: string, name: string): boolean {
  for (const g of view.referenceGrantsIn(targetNs)) {
    const spec = rec(g.spec)
    const fromOk = arr(spec.from).some((f) => str(rec(f).group) === GATEWAY_GROUP && str(rec(f).kind) === kind && str(rec(f).namespace) === fromNs)
    const toOk = arr(spec.to).some((t) => (str(rec(t).group) ?? '') === '' && str(rec(t).kind) === 'Service' && (str(rec(t).name) === undefined || str(rec(t).name) === name))
    if (fromOk && toOk) return true
  }
  return false
}

function unsupportedValues(subject: K8sObject, out: Finding[]): boolean {
  let any = false
  const flag = (path: string, value: string) => {
    out.push(finding('RG0208', subject, { path, value }, { path, reason: 'UnsupportedValue' }))
    any = true
  }
  if (kindKeyOf(subject) !== KIND.HTTPRoute) return false
  arr(rec(subject.spec).rules).forEach((rule, i) => {
    arr(rec(rule).matches).forEach((m, j) => {
      const mm = rec(m)
      const at = `spec.rules[${i}].matches[${j}]`
      const pt = str(rec(mm.path).type)
      if (pt !== undefined && !PATH_TYPES.has(pt)) flag(`${at}.path.type`, pt)
      arr(mm.headers).forEach((h, k) => {
        const t = str(rec(h).type)
        if (t !== undefined && !MATCH_TYPES.has(t)) flag(`${at}.headers[${k}].type`, t)
      })
      arr(mm.queryParams).forEach((h, k) => {
        const t = str(rec(h).type)
        if (t !== undefined && !MATCH_TYPES.has(t)) flag(`${at}.queryParams[${k}].type`, t)
      })
      const method = str(mm.method)
      if (method !== undefined && !METHODS.has(method)) flag(`${at}.method`, method)
    })
    arr(rec(rule).filters).forEach((f, j) => {
      const t = str(rec(f).type)
      if (t !== undefined && !FILTER_TYPES.has(t)) flag(`spec.rules[${i}].filters[${j}].type`, t)
    })
  })
  return any
}

export const routeStatusRules = Object.values(
  analyzerRules(
    { subjects: ROUTE_KINDS, inputs: [KIND.Gateway, KIND.Service, KIND.Namespace, KIND.ReferenceGrant] },
    ['RG0201', 'RG0202', 'RG0203', 'RG0204', 'RG0205', 'RG0206', 'RG0207', 'RG0208'],
    (s, { view }) => predictRouteStatus(s, view).findings,
  ),
)
