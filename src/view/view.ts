/**
 * The indexed in-memory view of the cluster that every rule reads.
 *
 * One class, three feeders: admission (standalone mode: every admitted, non-dryRun change),
 * files (`routeguard analyze`), informers (live cluster). Rules see only the read-only `View`
 * interface and never know which feeder filled it.
 *
 * Every index answers one question for a bucket (a host, a gateway + host + match, a parent +
 * hostname + match); no rule iterates over all objects. `upsert` and `remove` cost O(size of the
 * object): each object remembers the postings it made and takes exactly those back.
 */
import {
  type K8sObject,
  KIND,
  type KindKey,
  idOf,
  kindKeyOf,
  lengthPrefixed,
  nameOf,
  arr,
  nsOf,
  num,
  rec,
  str,
  splitId,
  stringMap,
  strs,
} from '../model/object.js'
import { HostTrie, serviceFQDN, toFQDN } from '../model/hosts.js'
import { workloadLabels, workloadNode } from '../model/workloads.js'
import { bagAdd, bagRemove, bagSize, bagValues, type Bag, MultiMap } from '../model/bag.js'
import {
  exportScopes,
  forEachGatewayMatch,
  gatewayMatchKey,
  istioGateway,
  selects,
  serverCertificateKey,
  virtualService,
  vsFQDNs,
} from '../model/istio.js'
import {
  gatewayAddresses,
  isGatewayParent,
  isServiceParent,
  listeners,
  type ParentRef,
  route,
  type RouteMatch,
} from '../model/gatewayapi.js'

/**
 * A mesh-bound VirtualService claiming `host` (FQDN) in its exportTo scopes: one posting per
 * host, not per (host, scope), so that a VirtualService with many hosts and many exportTo
 * entries costs hosts + scopes, not their product.
 */
export interface MeshHostPosting {
  obj: K8sObject
  /** the VirtualService's exportTo scopes (`*` for public), without duplicates */
  scopes: readonly string[]
  host: string
}

/** A gateway-bound VirtualService rule match on (gateway, host). */
export interface GatewayVsPosting {
  obj: K8sObject
  gateway: string
  host: string
  ruleIndex: number
  matchIndex: number | undefined
}

/** One route match on one parent (and declared hostname, for Gateway parents). */
export interface RouteMatchPosting {
  obj: K8sObject
  parent: ParentRef
  match: RouteMatch
}

/** A route attached (by parentRef) to a parent, under one declared hostname or none. */
export interface RouteParentPosting {
  obj: K8sObject
  parent: ParentRef
}

/** A route whose parentRef is a Service, by the Service's FQDN. */
export interface ServiceRoutePosting {
  obj: K8sObject
  parent: ParentRef
  host: string
}

/** A Service (as `<name>.<ns>.svc.cluster.local`) or ServiceEntry host, by exportTo scope. */
export interface ServiceHostPosting {
  obj: K8sObject
  scope: string
  host: string
  ports: number[]
}

/** A Pod, or an object whose Pod template makes Pods: where its Pods run and the labels they carry. */
export interface Workload {
  obj: K8sObject
  kind: KindKey
  namespace: string
  /** the Pods' labels (a Pod's own, else its template's); do not modify */
  labels: Record<string, string>
  /** the Node the Pods run on, when known */
  node: string | undefined
}

/** What rules may read. All lookups are bucket lookups; none scans the whole view. */
export interface View {
  /**
   * Does the view hold every object of this kind? Files and standalone views do (they are the
   * world); a live view only for the kinds it watches (Pods, for instance, are not watched).
   * Rules that would read absence as "not found" skip kinds the view does not cover.
   */
  covers(kind: KindKey): boolean
  /** One object by identity, or undefined. */
  get(kind: KindKey, namespace: string, name: string): K8sObject | undefined
  /** Every object of `kind` in one namespace (`''` for cluster-scoped kinds): one bucket. */
  objectsIn(kind: KindKey, namespace: string): Iterable<K8sObject>
  /**
   * Labels of a Namespace (with the implicit `kubernetes.io/metadata.name`), or undefined when
   * the view does not cover Namespaces.
   */
  namespaceLabels(namespace: string): Record<string, string> | undefined
  /** Mesh VirtualService hosts stored under exactly `host`. */
  meshHostsExact(host: string): Iterable<MeshHostPosting>
  /** Mesh VirtualService hosts that match `host` by Istio's wildcard rule (either direction). */
  meshHostsMatching(host: string): Iterable<MeshHostPosting>
  /** Gateway-bound VirtualService matches on `gateway` (`ns/name`), identical `host`, identical match `sig`. */
  gatewayVirtualServices(gateway: string, host: string, sig: string): Iterable<GatewayVsPosting>
  /** VirtualServices whose `gateways` name the Istio Gateway `gateway` (`ns/name`, as pilot resolves it). */
  virtualServicesOnGateway(gateway: string): Iterable<K8sObject>
  /**
   * VirtualServices bound to `gateway` (`ns/name`) with a host (as written; `*` included) that
   * matches `host` by Istio's wildcard rule, either direction: one posting per matching host.
   */
  virtualServicesOnGatewayFor(gateway: string, host: string): Iterable<{ obj: K8sObject; host: string }>
  /**
   * Gateway API Gateways whose `spec.addresses` request (`type`, `value`); `type` as written,
   * `IPAddress` when absent (the API's default).
   */
  gatewaysWithAddress(type: string, value: string): Iterable<K8sObject>
  /** Istio Gateway servers whose TLS certificate has this `serverCertificateKey`, one posting per server. */
  istioGatewaysWithCertificate(key: string): Iterable<{ obj: K8sObject; server: number }>
  /** Istio Gateways with a server on `port`, grouped by selector string. */
  istioGatewaysOnPort(port: number): Iterable<[string, Iterable<K8sObject>]>
  /**
   * Is there a workload (a Pod, or an object with a Pod template: see `model/workloads.ts`) the
   * equality selector selects, in any namespace?
   */
  anyWorkloadSelected(selector: Record<string, string>): boolean
  /** Workloads whose Pods' labels the equality selector selects (any namespace); an empty selector selects all. */
  workloadsSelected(selector: Record<string, string>): Iterable<Workload>
  /** Services in one namespace. */
  servicesIn(namespace: string): Iterable<K8sObject>
  /** Route matches of `kind` by `routeMatchKey(...)`. */
  routeMatches(key: string): Iterable<RouteMatchPosting>
  /** Routes of `kind` on a parent whose declared hostnames match `hostname`; undefined → all on the parent. */
  routesOnParent(kind: KindKey, parentKey: string, hostname: string | undefined): Iterable<RouteParentPosting>
  /** Routes whose Service parentRef's FQDN matches `host` (either direction). */
  serviceRoutesMatching(host: string): Iterable<ServiceRoutePosting>
  /** Service and ServiceEntry hosts matching `host` (Istio wildcard rule, either direction). */
  serviceHostsMatching(host: string): Iterable<ServiceHostPosting>
  /** BackendTLSPolicies with a targetRef to core Service `namespace/service` (any sectionName). */
  backendTLSPoliciesFor(namespace: string, service: string): Iterable<K8sObject>
  /** ReferenceGrants in a namespace. */
  referenceGrantsIn(namespace: string): Iterable<K8sObject>
  /** DestinationRules whose `spec.host` (FQDN-expanded in their namespace) is exactly `host`. */
  destinationRulesFor(host: string): Iterable<K8sObject>
  /** DestinationRules with a wildcard `spec.host` that matches `host` (Istio's wildcard rule), with that host. */
  wildcardDestinationRulesMatching(host: string): Iterable<{ obj: K8sObject; host: string }>
}

/** The parent of a parentRef as an index key: `Gateway ns/name` or `Service ns/name`. */
/**
 * May the absence of an object of `kind` in `namespace` (`''` for cluster-scoped kinds) be read
 * as "it does not exist"? Only where the view covers the kind and holds at least one of it there:
 * files that carry none of a kind (Secrets or ConfigMaps made at run time, no Namespace objects)
 * prove nothing. One bucket lookup.
 */
export function knowsObjectsIn(view: View, kind: KindKey, namespace: string): boolean {
  if (!view.covers(kind)) return false
  for (const _ of view.objectsIn(kind, namespace)) return true
  return false
}

export function parentKey(p: ParentRef): string {
  return lengthPrefixed([p.kind, p.namespace, p.name])
}

/**
 * Key of a route match bucket. Gateway parents: (kind, parent, declared hostname or `` for
 * none, signature). Service parents ignore hostnames (GEP-1294) and group by the route's
 * namespace (producer and consumer routes never merge).
 */
export function routeMatchKey(kind: KindKey, p: ParentRef, hostnameOrRouteNs: string, sig: string): string {
  // length-prefixed parts: names holding separators (NUL, `/`) cannot make two keys collide
  return lengthPrefixed([kind, p.kind, p.namespace, p.name, hostnameOrRouteNs, sig])
}

/**
 * The buckets a route's matches fall in under one parentRef (`routeMatchKey`'s third part): a
 * Gateway parent's declared hostnames (`''` for none), a Service parent's route namespace
 * (GEP-1294: producer and consumer routes never merge); none for any other parent.
 */
export function routeMatchScopes(parent: ParentRef, r: { hostnames: readonly string[]; namespace: string }): readonly string[] {
  if (isGatewayParent(parent)) return r.hostnames.length ? r.hostnames : ['']
  return isServiceParent(parent) ? [r.namespace] : []
}

/** The store behind every driver. Not safe for concurrent mutation (Node is single-threaded). */
export class ClusterView implements View {
  /** Objects by kind, namespace and name: a lookup hashes the strings it is given, builds no key. */
  private readonly objects = new Map<KindKey, Map<string, Map<string, K8sObject>>>()
  private total = 0
  private readonly counts = new Map<KindKey, number>()
  private readonly meshHosts = new HostTrie<MeshHostPosting>()
  private readonly gatewayVs = new MultiMap<string, GatewayVsPosting>()
  private readonly gatewayBound = new MultiMap<string, K8sObject>()
  /** gateway-bound VirtualServices by gateway (`ns/name`), then by host as written */
  private readonly gatewayHosts = new Map<string, HostTrie<{ obj: K8sObject; host: string }>>()
  private readonly gatewaysByPort = new Map<number, MultiMap<string, K8sObject>>()
  private readonly gatewaysByAddress = new MultiMap<string, K8sObject>()
  private readonly istioGatewaysByCertificate = new MultiMap<string, { obj: K8sObject; server: number }>()
  private readonly workloadsByLabel = new MultiMap<string, Workload>()
  private readonly workloads = new Map<K8sObject, Workload>()
  private readonly routeMatchIndex = new MultiMap<string, RouteMatchPosting>()
  private readonly routeParents = new Map<string, { byHost: HostTrie<RouteParentPosting>; noHost: Bag<RouteParentPosting>; size: number }>()
  private readonly serviceRoutes = new HostTrie<ServiceRoutePosting>()
  private readonly destinationRules = new MultiMap<string, K8sObject>()
  private readonly wildcardDestinationRules = new HostTrie<{ obj: K8sObject; host: string }>()
  private readonly servicesByNamespace = new MultiMap<string, K8sObject>()
  private readonly grantsByNamespace = new MultiMap<string, K8sObject>()
  /** BackendTLSPolicies by the core Service a targetRef names (`namespace`, `name`, length-prefixed) */
  private readonly backendTLSPolicies = new MultiMap<string, K8sObject>()
  private readonly serviceHosts = new HostTrie<ServiceHostPosting>()
  private readonly listeners: ((id: string) => void)[] = []
  private coverage: Set<KindKey> | undefined

  covers(kind: KindKey): boolean {
    return !this.coverage || this.coverage.has(kind)
  }

  /** Declares the kinds this view is complete for (live views: the watched kinds). */
  setCoverage(kinds: Iterable<KindKey>): void {
    this.coverage = new Set(kinds)
  }

  /** Calls `fn(id)` after every upsert or remove (the audit's change feed). */
  onChange(fn: (id: string) => void): void {
    this.listeners.push(fn)
  }

  /** One object by its `idOf` identity. */
  getById(id: string): K8sObject | undefined {
    const key = splitId(id)
    return key && this.get(key.kind, key.namespace, key.name)
  }

  /** Number of objects held, in total or of one kind. */
  size(kind?: KindKey): number {
    return kind === undefined ? this.total : (this.counts.get(kind) ?? 0)
  }

  /** Objects held per kind: [kindKey, count]. */
  kindCounts(): IterableIterator<[KindKey, number]> {
    return this.counts.entries()
  }

  /** Every object held (for drivers that walk the view, e.g. analyze and audit; never for rules). */
  *all(): IterableIterator<K8sObject> {
    for (const byNamespace of this.objects.values()) for (const byName of byNamespace.values()) yield* byName.values()
  }

  /**
   * Adds or replaces an object (by kind, namespace, name).
   * @returns false when the object has no kind or name (it is not stored).
   */
  upsert(obj: K8sObject): boolean {
    const kind = kindKeyOf(obj)
    if (!kind || !nameOf(obj)) return false
    const namespace = nsOf(obj)
    const name = nameOf(obj)
    this.removeKey(kind, namespace, name)
    let byNamespace = this.objects.get(kind)
    if (!byNamespace) this.objects.set(kind, (byNamespace = new Map()))
    let byName = byNamespace.get(namespace)
    if (!byName) byNamespace.set(namespace, (byName = new Map()))
    byName.set(name, obj)
    this.total++
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1)
    this.index(kind, obj, true)
    this.changed(obj)
    return true
  }

  /** Removes an object by identity; true when it was held. */
  remove(obj: K8sObject): boolean {
    const kind = kindKeyOf(obj)
    return kind !== undefined && this.removeKey(kind, nsOf(obj), nameOf(obj))
  }

  private removeKey(kind: KindKey, namespace: string, name: string): boolean {
    const byNamespace = this.objects.get(kind)
    const byName = byNamespace?.get(namespace)
    const old = byName?.get(name)
    if (!old) return false
    this.index(kind, old, false)
    byName!.delete(name)
    if (byName!.size === 0) byNamespace!.delete(namespace)
    if (byNamespace!.size === 0) this.objects.delete(kind)
    this.total--
    const n = (this.counts.get(kind) ?? 1) - 1
    if (n) this.counts.set(kind, n)
    else this.counts.delete(kind)
    this.changed(old)
    return true
  }

  /**
   * Runs `fn` on the view with `changes` applied (`put`: added or replacing the object of its
   * identity; `drop`: the object of that identity removed), then puts back what was there, so
   * that `fn` sees the cluster as it would be after a write (the impact of a change,
   * impact/impact.ts). Synchronous and exception-safe (a DeadlineExceeded inside `fn` restores
   * too); listeners hear nothing of it, as nothing was stored.
   */
  trial<T>(changes: readonly ({ put: K8sObject } | { drop: K8sObject })[], fn: () => T): T {
    const saved: { kind: KindKey; namespace: string; name: string; was: K8sObject | undefined }[] = []
    this.quiet++
    try {
      for (const c of changes) {
        const obj = 'put' in c ? c.put : c.drop
        const kind = kindKeyOf(obj)
        if (!kind || !nameOf(obj)) continue
        saved.push({ kind, namespace: nsOf(obj), name: nameOf(obj), was: this.get(kind, nsOf(obj), nameOf(obj)) })
        if ('put' in c) this.upsert(c.put)
        else this.removeKey(kind, nsOf(obj), nameOf(obj))
      }
      return fn()
    } finally {
      for (let i = saved.length - 1; i >= 0; i--) {
        const s = saved[i]!
        this.removeKey(s.kind, s.namespace, s.name)
        if (s.was) this.upsert(s.was)
      }
      this.quiet--
    }
  }

  private quiet = 0

  private changed(obj: K8sObject): void {
    if (this.listeners.length === 0 || this.quiet > 0) return
    const id = idOf(obj)
    for (const fn of this.listeners) fn(id)
  }

  get(kind: KindKey, namespace: string, name: string): K8sObject | undefined {
    return this.objects.get(kind)?.get(namespace)?.get(name)
  }

  objectsIn(kind: KindKey, namespace: string): Iterable<K8sObject> {
    return this.objects.get(kind)?.get(namespace)?.values() ?? []
  }

  namespaceLabels(namespace: string): Record<string, string> | undefined {
    const ns = this.get(KIND.Namespace, '', namespace)
    if (!ns && !this.covers(KIND.Namespace)) return undefined
    // the API server labels every Namespace with its name (Kubernetes 1.22+)
    return { ...stringMap(ns?.metadata?.labels), 'kubernetes.io/metadata.name': namespace }
  }

  meshHostsExact(host: string): Iterable<MeshHostPosting> {
    return this.meshHosts.exact(host)
  }

  meshHostsMatching(host: string): Iterable<MeshHostPosting> {
    return this.meshHosts.matching(host)
  }

  gatewayVirtualServices(gateway: string, host: string, sig: string): Iterable<GatewayVsPosting> {
    return this.gatewayVs.get(gatewayMatchKey(gateway, host, sig))
  }

  gatewaysWithAddress(type: string, value: string): Iterable<K8sObject> {
    return this.gatewaysByAddress.get(lengthPrefixed([type, value]))
  }

  istioGatewaysWithCertificate(key: string): Iterable<{ obj: K8sObject; server: number }> {
    return this.istioGatewaysByCertificate.get(key)
  }

  *istioGatewaysOnPort(port: number): Iterable<[string, Iterable<K8sObject>]> {
    const m = this.gatewaysByPort.get(port)
    if (m) for (const [sel, bag] of m.map) yield [sel, [...bagValues(bag)]]
  }

  serviceHostsMatching(host: string): Iterable<ServiceHostPosting> {
    return this.serviceHosts.matching(host)
  }

  backendTLSPoliciesFor(namespace: string, service: string): Iterable<K8sObject> {
    return this.backendTLSPolicies.get(lengthPrefixed([namespace, service]))
  }

  referenceGrantsIn(namespace: string): Iterable<K8sObject> {
    return this.grantsByNamespace.get(namespace)
  }

  servicesIn(namespace: string): Iterable<K8sObject> {
    return this.servicesByNamespace.get(namespace)
  }

  anyWorkloadSelected(selector: Record<string, string>): boolean {
    for (const _ of this.workloadsSelected(selector)) return true
    return false
  }

  *workloadsSelected(selector: Record<string, string>): Generator<Workload> {
    const pairs = Object.entries(selector)
    if (pairs.length === 0) return yield* this.workloads.values()
    let smallest: Bag<Workload>
    for (const [k, v] of pairs) {
      const b = this.workloadsByLabel.map.get(`${k}=${v}`)
      if (b === undefined) return
      if (smallest === undefined || bagSize(b) < bagSize(smallest)) smallest = b
    }
    for (const w of bagValues(smallest)) if (selects(selector, w.labels)) yield w
  }

  routeMatches(key: string): Iterable<RouteMatchPosting> {
    return this.routeMatchIndex.get(key)
  }

  virtualServicesOnGateway(gateway: string): Iterable<K8sObject> {
    return this.gatewayBound.get(gateway)
  }

  virtualServicesOnGatewayFor(gateway: string, host: string): Iterable<{ obj: K8sObject; host: string }> {
    return this.gatewayHosts.get(gateway)?.matching(host) ?? []
  }

  routesOnParent(kind: KindKey, pk: string, hostname: string | undefined): Iterable<RouteParentPosting> {
    const p = this.routeParents.get(lengthPrefixed([kind, pk]))
    if (!p) return []
    const hosted = p.byHost.matching(hostname ?? '*')
    return p.noHost === undefined ? hosted : [...bagValues(p.noHost), ...hosted]
  }

  serviceRoutesMatching(host: string): Iterable<ServiceRoutePosting> {
    return this.serviceRoutes.matching(host)
  }

  destinationRulesFor(host: string): Iterable<K8sObject> {
    return this.destinationRules.get(host)
  }

  wildcardDestinationRulesMatching(host: string): Iterable<{ obj: K8sObject; host: string }> {
    return this.wildcardDestinationRules.matching(host)
  }

  /**
   * Posts an object into (add) or takes it out of (remove) every index that concerns its kind.
   * Removal re-derives the same keys from the stored object (its facts were kept when it was
   * added) and drops the postings that belong to it, so nothing per posting has to be remembered.
   */
  private index(kind: KindKey, obj: K8sObject, add: boolean): void {
    const mine = (p: { obj: K8sObject }) => p.obj === obj
    switch (kind) {
      case KIND.VirtualService: {
        const vs = add ? virtualService.keep(obj) : virtualService(obj)
        const hosts = vsFQDNs(vs)
        if (vs.mesh) {
          for (const host of hosts) {
            if (add) this.meshHosts.add(host, { obj, scopes: vs.scopes, host })
            else this.meshHosts.remove(host, mine)
          }
        }
        for (const g of vs.gateways) {
          if (add) this.gatewayBound.add(g, obj)
          else this.gatewayBound.remove(g, (o) => o === obj)
          let trie = this.gatewayHosts.get(g)
          if (!trie && add) this.gatewayHosts.set(g, (trie = new HostTrie()))
          for (const h of vs.hosts) {
            if (add) trie!.add(h, { obj, host: h })
            else trie?.remove(h, mine)
          }
        }
        forEachGatewayMatch(vs, (gateway, host, m) => {
          const key = gatewayMatchKey(gateway, host, m.sig)
          if (add) this.gatewayVs.add(key, { obj, gateway, host, ruleIndex: m.ruleIndex, matchIndex: m.index })
          else this.gatewayVs.remove(key, mine)
        })
        break
      }
      case KIND.Gateway: {
        // every route review reads its parent Gateway's listeners
        if (add) listeners.keep(obj)
        for (const a of gatewayAddresses(obj)) {
          const key = lengthPrefixed([a.type, a.value])
          if (add) this.gatewaysByAddress.add(key, obj)
          else this.gatewaysByAddress.remove(key, (o) => o === obj)
        }
        break
      }
      case KIND.ReferenceGrant: {
        if (add) this.grantsByNamespace.add(nsOf(obj), obj)
        else this.grantsByNamespace.remove(nsOf(obj), (o) => o === obj)
        break
      }
      case KIND.BackendTLSPolicy: {
        // targetRefs are local to the policy's namespace; other kinds than Service are not indexed
        const services = new Set(arr(rec(obj.spec).targetRefs).map(rec).filter((t) => (str(t.group) ?? '') === '' && str(t.kind) === 'Service').map((t) => str(t.name) ?? ''))
        for (const name of services) {
          const key = lengthPrefixed([nsOf(obj), name])
          if (add) this.backendTLSPolicies.add(key, obj)
          else this.backendTLSPolicies.remove(key, (o) => o === obj)
        }
        break
      }
      case KIND.Service: {
        if (add) this.servicesByNamespace.add(nsOf(obj), obj)
        else this.servicesByNamespace.remove(nsOf(obj), (o) => o === obj)
        // Istio sees a Service as host <name>.<ns>.svc.cluster.local, exported per annotation
        const host = serviceFQDN(nameOf(obj), nsOf(obj))
        const exportTo = (stringMap(obj.metadata?.annotations)['networking.istio.io/exportTo'] ?? '').split(',').map((x) => x.trim()).filter(Boolean)
        const ports = arr(rec(obj.spec).ports).map((p) => num(rec(p).port)).filter((n): n is number => n !== undefined)
        for (const scope of exportScopes(exportTo, nsOf(obj))) {
          if (add) this.serviceHosts.add(host, { obj, scope, host, ports })
          else this.serviceHosts.remove(host, mine)
        }
        break
      }
      case KIND.ServiceEntry: {
        const spec = rec(obj.spec)
        const ports = arr(spec.ports).map((p) => num(rec(p).number)).filter((n): n is number => n !== undefined)
        for (const scope of exportScopes(strs(spec.exportTo), nsOf(obj))) {
          for (const host of strs(spec.hosts)) {
            if (add) this.serviceHosts.add(host, { obj, scope, host, ports })
            else this.serviceHosts.remove(host, mine)
          }
        }
        break
      }
      case KIND.DestinationRule: {
        const host = str(rec(obj.spec).host)
        if (host) {
          const fqdn = toFQDN(host, nsOf(obj))
          if (add) this.destinationRules.add(fqdn, obj)
          else this.destinationRules.remove(fqdn, (o) => o === obj)
          if (fqdn.startsWith('*')) {
            if (add) this.wildcardDestinationRules.add(fqdn, { obj, host: fqdn })
            else this.wildcardDestinationRules.remove(fqdn, mine)
          }
        }
        break
      }
      case KIND.IstioGateway: {
        const gw = add ? istioGateway.keep(obj) : istioGateway(obj)
        const servers = arr(rec(obj.spec).servers)
        for (let i = 0; i < servers.length; i++) {
          const key = serverCertificateKey(rec(rec(servers[i]).tls))
          if (key === undefined) continue
          if (add) this.istioGatewaysByCertificate.add(key, { obj, server: i })
          else this.istioGatewaysByCertificate.remove(key, mine)
        }
        for (const port of new Set(gw.servers.map((s) => s.port))) {
          let m = this.gatewaysByPort.get(port)
          if (add) {
            if (!m) this.gatewaysByPort.set(port, (m = new MultiMap()))
            m.add(gw.selectorString, obj)
          } else if (m) {
            m.remove(gw.selectorString, (o) => o === obj)
            if (m.map.size === 0) this.gatewaysByPort.delete(port)
          }
        }
        break
      }
      case KIND.Pod:
      case KIND.Deployment:
      case KIND.StatefulSet:
      case KIND.DaemonSet:
      case KIND.ReplicaSet:
      case KIND.Job:
      case KIND.CronJob:
      case KIND.Rollout: {
        if (add) {
          const w: Workload = { obj, kind, namespace: nsOf(obj), labels: workloadLabels(obj, kind), node: workloadNode(obj, kind) }
          this.workloads.set(obj, w)
          for (const [k, v] of Object.entries(w.labels)) this.workloadsByLabel.add(`${k}=${v}`, w)
        } else {
          const w = this.workloads.get(obj)
          this.workloads.delete(obj)
          if (w) for (const [k, v] of Object.entries(w.labels)) this.workloadsByLabel.remove(`${k}=${v}`, (o) => o === w)
        }
        break
      }
      case KIND.HTTPRoute:
      case KIND.GRPCRoute: {
        const r = add ? route.keep(obj) : route(obj)
        for (const parent of r.parentRefs) {
          const scopes = routeMatchScopes(parent, r)
          if (!scopes.length) continue
          const gatewayParent = isGatewayParent(parent)
          for (const h of scopes) {
            for (const match of r.matches) {
              const key = routeMatchKey(kind, parent, h, match.sig)
              if (add) this.routeMatchIndex.add(key, { obj, parent, match })
              else this.routeMatchIndex.remove(key, (p) => p.obj === obj && p.parent === parent)
            }
          }
          if (!gatewayParent) {
            const host = serviceFQDN(parent.name, parent.namespace)
            if (add) this.serviceRoutes.add(host, { obj, parent, host })
            else this.serviceRoutes.remove(host, (p) => p.obj === obj && p.parent === parent)
          }
          this.postParent(kind, parent, obj, gatewayParent ? r.hostnames : [], add)
        }
        break
      }
      case KIND.TLSRoute:
      case KIND.TCPRoute:
      case KIND.UDPRoute: {
        // by parent only (routeguard trace: TLS passthrough by SNI, TCP and UDP by port); no rule
        // judges their matches (TCPRoute and UDPRoute have none)
        const r = add ? route.keep(obj) : route(obj)
        for (const parent of r.parentRefs) if (isGatewayParent(parent)) this.postParent(kind, parent, obj, r.hostnames, add)
        break
      }
      default:
        break
    }
  }

  /** Posts a route under its parent, by declared hostname (none → the no-hostname bag). */
  private postParent(kind: KindKey, parent: ParentRef, obj: K8sObject, hostnames: string[], add: boolean): void {
    const pk = lengthPrefixed([kind, parentKey(parent)])
    let slot = this.routeParents.get(pk)
    if (add) {
      if (!slot) this.routeParents.set(pk, (slot = { byHost: new HostTrie(), noHost: undefined, size: 0 }))
      const posting: RouteParentPosting = { obj, parent }
      if (hostnames.length === 0) slot.noHost = bagAdd(slot.noHost, posting)
      for (const h of hostnames) slot.byHost.add(h, posting)
      slot.size++
      return
    }
    if (!slot) return
    const mine = (p: RouteParentPosting) => p.obj === obj && p.parent === parent
    if (hostnames.length === 0) slot.noHost = bagRemove(slot.noHost, mine)
    for (const h of hostnames) slot.byHost.remove(h, mine)
    if (--slot.size === 0) this.routeParents.delete(pk)
  }
}
