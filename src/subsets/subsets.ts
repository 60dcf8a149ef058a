/**
 * Per-subset Services: an HTTPRoute cannot address an Istio DestinationRule subset, so for
 * `reviews` with subset `v2` (labels `version: v2`) routeguard generates Service `reviews-v2`
 * selecting `reviews`' selector ∪ the subset labels, with `reviews`' ports, the way Istio's
 * bookinfo-versions.yaml is written by hand. Pure functions over the view; writing is elsewhere.
 *
 * Istio's subset is the parent host's endpoints filtered by the subset labels, never more: a
 * subset label that contradicts a key of the parent's selector (`app: payments` under a parent
 * selecting `app: reviews`) selects nothing in Istio, and a parent without a selector has no
 * Pods to filter. Such a subset generates no Service (RG0404 names the key): otherwise anyone
 * who may write a DestinationRule would borrow routeguard's Service permission to select any
 * Pod of the namespace.
 *
 * Source: GEP-1294 (a backendRef names a Service; the per-subset-Service pattern), Istio's
 * DestinationRule host resolution (short host → `<host>.<dr-namespace>.svc.cluster.local`).
 */
import { serviceFQDN } from '../model/hosts.js'
import { arr, type K8sObject, KIND, nameOf, nsOf, rec, str, stringMap } from '../model/object.js'
import { isPendingObject } from '../view/pending.js'
import type { View } from '../view/view.js'

export const MANAGED_BY = 'app.kubernetes.io/managed-by'
export const SUBSET_OF = 'routeguard.io/subset-of'
/** on a DestinationRule: `"true"` generates a Service for every subset */
export const OPT_IN = 'routeguard.io/subset-services'
/** on a route: the generated Services it uses, `ns/name,…` */
export const GENERATED_ANNOTATION = 'routeguard.io/generated-services'
export const MANAGER = 'routeguard'

export interface SubsetService {
  /** the Service to apply */
  service: K8sObject
  base: K8sObject
  destinationRule: K8sObject
  subset: string
  /** why this subset gets no Service (its labels leave the parent's endpoints); undefined when it gets one */
  refused?: string
}

/**
 * Why the subset `labels` of `base` cannot be a Service of their own: `base` has no selector,
 * or a label contradicts one of its selector's keys. Undefined when `base`'s selector ∪ labels
 * selects a subset of `base`'s Pods.
 */
export function selectorConflict(base: K8sObject, labels: Record<string, string>): string | undefined {
  const selector = stringMap(rec(base.spec).selector)
  const ref = `Service ${nsOf(base)}/${nameOf(base)}`
  if (Object.keys(selector).length === 0) return `${ref} has no selector, so its subsets cannot be selected by labels`
  for (const [k, v] of Object.entries(labels)) {
    if (Object.hasOwn(selector, k) && selector[k] !== v) {
      return `subset label ${k}=${v} contradicts ${ref}'s selector ${k}=${selector[k]}: Istio's subset is ${nameOf(base)}'s endpoints filtered by its labels, so it selects none`
    }
  }
  return undefined
}

export function isManaged(svc: K8sObject | undefined): boolean {
  return stringMap(svc?.metadata?.labels)[MANAGED_BY] === MANAGER && SUBSET_OF in stringMap(svc?.metadata?.labels)
}

export function optedIn(dr: K8sObject): boolean {
  return stringMap(dr.metadata?.annotations)[OPT_IN] === 'true'
}

/** Subsets of DestinationRules in the Service's namespace whose host resolves to the Service. */
export function subsetsOf(view: View, base: K8sObject): { dr: K8sObject; name: string; labels: Record<string, string> }[] {
  const ns = nsOf(base)
  const out: { dr: K8sObject; name: string; labels: Record<string, string> }[] = []
  for (const dr of view.destinationRulesFor(serviceFQDN(nameOf(base), ns))) {
    // a DestinationRule only a request vouches for (pending: admitted, not yet stored) never
    // decides what is written
    if (nsOf(dr) !== ns || isPendingObject(dr)) continue
    for (const s of arr(rec(dr.spec).subsets)) {
      const name = str(rec(s).name)
      if (name) out.push({ dr, name, labels: stringMap(rec(s).labels) })
    }
  }
  return out
}

/** The Service for `base` + subset, as routeguard writes it (server-side apply body). */
export function buildSubsetService(base: K8sObject, dr: K8sObject, subset: string, labels: Record<string, string>): K8sObject {
  const ns = nsOf(base)
  const spec = rec(base.spec)
  const ports = arr(spec.ports).map((p) => {
    const x = rec(p)
    const port: Record<string, unknown> = {}
    for (const k of ['name', 'port', 'targetPort', 'protocol', 'appProtocol']) if (x[k] !== undefined) port[k] = x[k]
    return port
  })
  const uid = str(dr.metadata?.uid)
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: `${nameOf(base)}-${subset}`,
      namespace: ns,
      labels: { [MANAGED_BY]: MANAGER, [SUBSET_OF]: nameOf(base) },
      ...(uid ? { ownerReferences: [{ apiVersion: dr.apiVersion ?? 'networking.istio.io/v1', kind: 'DestinationRule', name: nameOf(dr), uid }] } : {}),
    },
    spec: { type: 'ClusterIP', selector: { ...stringMap(spec.selector), ...labels }, ports },
  }
}

/**
 * Resolves a backendRef name `<svc>-<subset>` in `namespace` to the Service that should exist:
 * every split at a `-` is tried; the base Service and a DestinationRule subset must exist.
 */
export function resolveSubsetBackend(view: View, namespace: string, name: string): SubsetService | undefined {
  // a Service name is a DNS-1035 label (at most 63 characters): a longer backendRef name can
  // be no generated Service, and is not split at every `-` (a hostile name could have millions)
  if (name.length > 63) return undefined
  for (let i = name.indexOf('-'); i > 0; i = name.indexOf('-', i + 1)) {
    const base = view.get(KIND.Service, namespace, name.slice(0, i))
    if (!base) continue
    const subset = name.slice(i + 1)
    const found = subsetsOf(view, base).find((s) => s.name === subset)
    if (found) return { service: buildSubsetService(base, found.dr, subset, found.labels), base, destinationRule: found.dr, subset, refused: selectorConflict(base, found.labels) }
  }
  return undefined
}

/** Core Service backendRef names of a route in its own namespace (rules and mirror filters). */
export function serviceBackendNames(route: K8sObject): string[] {
  const ns = nsOf(route)
  const names = new Set<string>()
  const take = (ref: unknown) => {
    const r = rec(ref)
    const group = str(r.group) ?? ''
    const kind = str(r.kind) ?? 'Service'
    const name = str(r.name)
    if (group === '' && kind === 'Service' && name && (str(r.namespace) ?? ns) === ns) names.add(name)
  }
  for (const rule of arr(rec(route.spec).rules)) {
    for (const b of arr(rec(rule).backendRefs)) take(b)
    for (const f of arr(rec(rule).filters)) take(rec(rec(f).requestMirror).backendRef)
  }
  return [...names]
}

/** Subset Services a route needs that are not there yet. */
export function missingForRoute(view: View, route: K8sObject): SubsetService[] {
  const ns = nsOf(route)
  const out: SubsetService[] = []
  for (const name of serviceBackendNames(route)) {
    if (view.get(KIND.Service, ns, name)) continue
    const s = resolveSubsetBackend(view, ns, name)
    if (s) out.push(s)
  }
  return out
}

/** Subset Services an opted-in DestinationRule wants (base Service must exist). */
export function wantedForDestinationRule(view: View, dr: K8sObject): SubsetService[] {
  if (!optedIn(dr)) return []
  const host = str(rec(dr.spec).host) ?? ''
  const short = host.includes('.') ? host.split('.')[0]! : host
  const base = view.get(KIND.Service, nsOf(dr), short)
  if (!base) return []
  return subsetsOf(view, base)
    .filter((s) => s.dr === dr)
    .map((s) => ({ service: buildSubsetService(base, dr, s.name, s.labels), base, destinationRule: dr, subset: s.name, refused: selectorConflict(base, s.labels) }))
}

/** Do two Services agree on what routeguard manages (selector, ports, owner DestinationRule)? */
export function sameSubsetSpec(actual: K8sObject, desired: K8sObject): boolean {
  const a = rec(actual.spec)
  const d = rec(desired.spec)
  const owner = (o: K8sObject) => arr(o.metadata?.ownerReferences).map((r) => str(rec(r).uid)).join(',')
  if (owner(desired) && owner(actual) !== owner(desired)) return false
  return JSON.stringify(sortKeys(stringMap(a.selector))) === JSON.stringify(sortKeys(stringMap(d.selector))) && JSON.stringify(normPorts(a.ports)) === JSON.stringify(normPorts(d.ports))
}

function sortKeys(m: Record<string, string>): [string, string][] {
  return Object.entries(m).sort(([x], [y]) => (x < y ? -1 : 1))
}

function normPorts(ports: unknown): unknown[] {
  return arr(ports).map((p) => {
    const x = rec(p)
    return [x.name ?? null, x.port ?? null, x.targetPort ?? x.port ?? null, x.protocol ?? 'TCP', x.appProtocol ?? null]
  })
}
