/**
 * The request classes a change can move (issue #25): for a changed route, Gateway or
 * DestinationRule, where requests enter (a Gateway API listener, an Istio Gateway server, a
 * sidecar in a namespace calling a mesh host) and which requests to send there: every path,
 * header, query and method value that the old or new version of the object, or a route it
 * competes with on that hostname, listener or mesh host, tells apart. Evaluated on the view
 * before and after the change by `impact.ts`, with the routing models `trace` runs.
 *
 * Classes per entry (after convert's `requestClasses`): `/`; each exact path; each prefix `P`, a
 * path under it (`P/x`) and its string-prefix neighbour (`Px`, not under `P` at a segment
 * boundary); a regex's example (`regexExample`, RE2 full match); each with no headers, query or
 * method, and with each match's header, query and method values (the request carrying them and
 * the one without: their absence). A wildcard hostname gets a concrete name (`*.example.com` →
 * `any.example.com`); a listener and route without hostnames, `any.example.com` too.
 *
 * At admission (`servedOnly`) an entry where nothing but the changed object serves the host gets
 * no classes: a request nobody served cannot be taken from anyone.
 *
 * Bounds: sources (routes read for values) and entries are read through the view's indexes
 * (routes on a parent under a hostname, mesh host postings, VirtualServices on a gateway), never
 * a scan; at most `max` classes are generated, and the rest are counted (`total`).
 */
import { arr, idOf, type K8sObject, KIND, kindKeyOf, nameOf, nsOf, rec, str, strs } from '../model/object.js'
import { attachment, effectiveHostnames, GATEWAY_GROUP, isGatewayParent, isServiceParent, type ParentRef, route, servicePorts } from '../model/gatewayapi.js'
import { hostsMatch, serviceFQDN, serviceOfFQDN, toFQDN } from '../model/hosts.js'
import { gatewayRef, istioGateway, virtualService } from '../model/istio.js'
import { exampleHost, regexExample, stringMatchValue } from '../routing/examples.js'
import { serverAdmits } from '../routing/istio.js'
import type { TraceRequest } from '../routing/types.js'
import { parentKey, type View } from '../view/view.js'

/** Where a request enters. Objects are named, not held: before and after a change they may differ. */
/** How requests reach a Gateway API listener, by its protocol. */
type ListenerScheme = 'http' | 'https' | 'tls' | 'tcp' | 'udp'

/**
 * Where a request enters: a Gateway API listener (by name and port), an Istio Gateway server
 * port, or a sidecar in namespace `from` (the request's host names the mesh host).
 */
export type Entry =
  | { type: 'gateway'; namespace: string; name: string; listener: string; port: number; scheme: ListenerScheme }
  | { type: 'istio-gateway'; namespace: string; name: string; port: number; scheme: 'http' | 'https' }
  | { type: 'mesh'; from: string }

/** One request to trace (`req.port` is the entry's for Gateways) at one entry. */
export interface RequestClass {
  entry: Entry
  req: TraceRequest
}

/** One side of a change: the object as stored before and as it would be after (either may be absent). */
export interface Change {
  before?: K8sObject
  after?: K8sObject
}

/** Classes per change at most, by default (admission: one object; `diff` may pass more). */
export const MAX_CLASSES = 256
/** Distinct paths read from the routes of one entry at most (values past it are not sent). */
const MAX_PATHS = 512
/** Hostnames, listeners or namespaces one object fans out to at most (each with its classes). */
const MAX_ENTRIES = 32
/** The host a hostname-less listener and route are reached under. */
export const ANY_HOST = 'any.example.com'

/** Kinds whose changes move requests, and so get classes. */
export const IMPACT_KINDS: ReadonlySet<string> = new Set([
  KIND.HTTPRoute,
  KIND.GRPCRoute,
  KIND.TLSRoute,
  KIND.TCPRoute,
  KIND.UDPRoute,
  KIND.VirtualService,
  KIND.DestinationRule,
  KIND.Gateway,
  KIND.IstioGateway,
  KIND.Service,
])

/** A `where` key for an entry, for grouping and de-duplication. */
export function entryKey(e: Entry): string {
  if (e.type === 'mesh') return `mesh|${e.from}`
  return `${e.type}|${e.namespace}/${e.name}|${e.type === 'gateway' ? e.listener : ''}|${e.port}`
}

/** Human form: `Gateway infra/shared listener http`, `Istio Gateway infra/public port 80`, `from namespace shop`. */
export function describeEntry(e: Entry): string {
  if (e.type === 'mesh') return `from namespace ${e.from}`
  if (e.type === 'gateway') return `Gateway ${e.namespace}/${e.name} listener ${e.listener}`
  return `Istio Gateway ${e.namespace}/${e.name} port ${e.port}`
}

/**
 * Path, header, query and method values the matches of the sources name, and the requests they
 * make (`requests`): the one generator of request classes, for change impact here and for
 * convert's before/after check (convert/equivalence.ts).
 */
export class Values {
  readonly paths = new Set<string>(['/'])
  /**
   * Header, query and method values, each with the paths its match covers: a value changes the
   * routing only of requests its match's path selects, so it is sent with those paths only
   * (`covers` undefined: every path). The bare request (no values) goes with every path.
   */
  readonly extras = new Map<string, { extra: { headers: Record<string, string>; query?: string; method?: string }; covers: ((path: string) => boolean)[] | undefined }>([[JSON.stringify({ headers: {} }), { extra: { headers: {} }, covers: undefined }]])
  readonly grpc = new Map<string, { service: string; method: string; headers: Record<string, string> }>()

  /**
   * The paths the changed object's own matches cover (`all` after a match without a plain path
   * condition: a regex, a rule without matches). A competitor's path can only move if the
   * changed object could take it, so it is read only when one of these covers it; values of
   * objects that are not routes (a DestinationRule's, a Gateway's) are all read.
   */
  private focus: ((p: string) => boolean)[] | 'all' = 'all'
  private reading: 'own' | 'competitor' = 'own'
  private ownSeen = false

  private path(p: string): void {
    if (this.reading === 'competitor' && this.focus !== 'all' && !this.focus.some((c) => c(p))) return
    if (this.paths.size < MAX_PATHS) this.paths.add(p)
  }

  /** What a match of the changed object covers, for `focus`. */
  private covered(c: ((p: string) => boolean) | undefined): void {
    if (this.reading !== 'own' || this.focus === 'all') return
    if (c) this.focus.push(c)
    else this.focus = 'all'
  }

  /** A prefix, a path under it, and its string-prefix neighbour (`/` is every path: itself only). */
  prefix(p: string): void {
    this.path(p)
    if (p === '/') return
    this.path(`${p.replace(/\/$/, '')}/x`)
    if (!p.endsWith('/')) this.path(`${p}x`)
  }

  /** An exact path; an exact `/` sets `/` apart from the paths under it. */
  exact(p: string): void {
    this.path(p)
    if (p === '/') this.path('/x')
  }

  extra(headers: Record<string, string>, query: string[], method: string | undefined, covers: ((path: string) => boolean) | undefined): void {
    const e = { headers, ...(query.length ? { query: query.join('&') } : {}), ...(method ? { method } : {}) }
    const key = JSON.stringify(e)
    const held = this.extras.get(key)
    if (held) {
      if (held.covers) held.covers = covers ? [...held.covers, covers] : undefined
    } else if (this.extras.size < 64) this.extras.set(key, { extra: e, covers: covers ? [covers] : undefined })
  }

  /** An `HTTPRouteMatch` (Gateway API). */
  httpRouteMatch(raw: unknown): void {
    const m = rec(raw)
    const path = rec(m.path)
    const type = str(path.type) ?? 'PathPrefix'
    const value = str(path.value) ?? '/'
    const covers = type === 'Exact' ? (p: string) => p === value : type === 'PathPrefix' ? (p: string) => p.startsWith(value) : undefined
    this.covered(covers)
    if (type === 'Exact') this.exact(value)
    else if (type === 'RegularExpression') {
      const ex = regexExample(value)
      if (ex?.startsWith('/')) this.path(ex)
    } else this.prefix(value)
    const headers: Record<string, string> = {}
    for (const h of arr(m.headers)) {
      const v = str(rec(h).type) === 'RegularExpression' ? regexExample(str(rec(h).value) ?? '') : str(rec(h).value)
      if (v !== undefined) headers[str(rec(h).name) ?? ''] = v
    }
    const query: string[] = []
    for (const q of arr(m.queryParams)) {
      const v = str(rec(q).type) === 'RegularExpression' ? regexExample(str(rec(q).value) ?? '') : str(rec(q).value)
      if (v !== undefined) query.push(`${encodeURIComponent(str(rec(q).name) ?? '')}=${encodeURIComponent(v)}`)
    }
    this.extra(headers, query, str(m.method), covers)
  }

  /** A `GRPCRouteMatch`: the service/method a client calls, with the match's headers. */
  grpcRouteMatch(raw: unknown): void {
    const m = rec(raw)
    const method = rec(m.method)
    const headers: Record<string, string> = {}
    for (const h of arr(m.headers)) if (str(rec(h).type) !== 'RegularExpression') headers[str(rec(h).name) ?? ''] = str(rec(h).value) ?? ''
    const service = str(method.service) ?? 'any.Service'
    const name = str(method.method) ?? 'Any'
    const key = JSON.stringify([service, name, headers])
    if (this.grpc.size < 64) this.grpc.set(key, { service, method: name, headers })
    // the same service with another method, and another service: what the match does not take
    this.grpc.set(JSON.stringify([service, 'Other', {}]), { service, method: 'Other', headers: {} })
  }

  /** An Istio `HTTPMatchRequest`. */
  istioMatch(raw: unknown): void {
    const m = rec(raw)
    const uri = rec(m.uri)
    if (typeof uri.exact === 'string') this.exact(uri.exact)
    else if (typeof uri.prefix === 'string') this.prefix(uri.prefix)
    else if (typeof uri.regex === 'string') {
      const ex = regexExample(uri.regex)
      if (ex?.startsWith('/')) this.path(ex)
    }
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(rec(m.headers))) {
      const val = stringMatchValue(v)
      if (typeof val === 'string') headers[k] = val
    }
    const query: string[] = []
    for (const [k, v] of Object.entries(rec(m.queryParams))) {
      const val = stringMatchValue(v)
      if (typeof val === 'string') query.push(`${encodeURIComponent(k)}=${encodeURIComponent(val)}`)
    }
    const method = stringMatchValue(m.method)
    const covers = typeof uri.exact === 'string' ? (p: string) => p === uri.exact : typeof uri.prefix === 'string' ? (p: string) => p.startsWith(String(uri.prefix)) : undefined
    this.covered(covers)
    this.extra(headers, query, typeof method === 'string' ? method : undefined, covers)
  }

  constructor(private readonly stopAt: number) {}

  /**
   * Every match of a route or VirtualService (its HTTP part), until the class set's time budget
   * runs out (`stopAt`, performance.now() ms: a huge route's values are read in part).
   */
  source(obj: K8sObject): void {
    const kind = kindKeyOf(obj)
    const rules = arr(rec(obj.spec)[kind === KIND.VirtualService ? 'http' : 'rules'])
    const read = kind === KIND.VirtualService ? (m: unknown) => this.istioMatch(m) : kind === KIND.GRPCRoute ? (m: unknown) => this.grpcRouteMatch(m) : kind === KIND.HTTPRoute ? (m: unknown) => this.httpRouteMatch(m) : undefined
    if (!read) return
    for (const rule of rules) {
      if (this.stopAt !== Infinity && performance.now() > this.stopAt) return
      const matches = arr(rec(rule)[kind === KIND.VirtualService ? 'match' : 'matches'])
      // a rule without matches takes every request (`/`)
      if (matches.length === 0) this.covered(undefined)
      for (const m of matches) read(m)
    }
  }

  /**
   * The requests of these values to `host`: every path with the bare request and with each
   * header/query/method combination whose match covers the path, then each gRPC method; `sni`
   * set for https.
   */
  *requests(host: string | undefined, port: number, scheme: string): Generator<TraceRequest> {
    const sni = scheme === 'https' && host ? { sni: host } : {}
    for (const path of this.paths) {
      for (const { extra: e, covers } of this.extras.values()) {
        if (covers && !covers.some((c) => c(path))) continue
        yield { scheme, host, port, method: e.method ?? 'GET', path, ...(e.query ? { query: e.query } : {}), headers: { ...e.headers }, ...sni }
      }
    }
    for (const g of this.grpc.values()) {
      yield { scheme, host, port, method: 'POST', path: `/${g.service}/${g.method}`, headers: { 'content-type': 'application/grpc', ...g.headers }, grpc: { service: g.service, method: g.method }, ...sni }
    }
  }

  /** The changed object's own values: every one is read, and what its matches cover sets `focus`. */
  own(obj: K8sObject): void {
    if (!this.ownSeen) this.focus = []
    this.ownSeen = true
    this.reading = 'own'
    this.source(obj)
    this.reading = 'competitor'
  }

  /** A competing route's values: its paths only where the changed object's matches cover them. */
  competitor(obj: K8sObject): void {
    this.reading = 'competitor'
    this.source(obj)
  }
}

/** Request classes, de-duplicated, at most `max` kept and every one counted (`total`). */
export class ClassSet {
  readonly classes: RequestClass[] = []
  private readonly seen = new Set<string>()
  total = 0
  /** performance.now() ms after which no more values are read from routes (Infinity: none) */
  stopAt = Infinity
  /**
   * Only entries where something else served the host before (admission: a request nobody
   * served cannot be taken from anyone); `diff` lists every request, served or new.
   */
  servedOnly = false
  constructor(private readonly max: number) {}

  /**
   * Adds the classes of `change` (its two versions, and what they compete with in `views`: the
   * view before and after, or one of them); past `max` they are only counted.
   */
  addChange(change: Change, views: readonly View[]): void {
    addClasses(this, change, views)
  }

  /** One class, unless the same request at the same entry is there already; counted either way until full. */
  add(entry: Entry, req: TraceRequest): void {
    if (this.full) {
      // counted, not kept (nor de-duplicated: `total` is then an upper bound)
      this.total++
      return
    }
    const key = `${entryKey(entry)}\0${req.scheme}\0${req.host ?? ''}\0${req.port}\0${req.method}\0${req.path}\0${req.query ?? ''}\0${JSON.stringify(req.headers)}\0${req.grpc ? `${req.grpc.service}/${req.grpc.method}` : ''}`
    if (this.seen.has(key)) return
    this.seen.add(key)
    this.total++
    if (this.classes.length < this.max) this.classes.push({ entry, req })
  }

  /** `max` classes kept: the rest are counted, not built. */
  get full(): boolean {
    return this.classes.length >= this.max
  }

  /**
   * HTTP classes of `values` for `host` at an entry. Once the set is full, what is left is only
   * counted (paths × values, without de-duplication: an upper bound), not built.
   */
  http(entry: Entry, values: Values, host: string | undefined, port: number, scheme: string): void {
    if (this.full) {
      this.total += values.paths.size * values.extras.size + values.grpc.size
      return
    }
    for (const req of values.requests(host, port, scheme)) this.add(entry, req)
  }
}

function isEmpty(it: Iterable<unknown>): boolean {
  for (const _ of it) return false
  return true
}

function concrete(hostname: string | undefined): string {
  return exampleHost(hostname) ?? ANY_HOST
}

/** Both views' versions of a named object (before first), without duplicates. */
function bothViews(views: readonly View[], kind: string, namespace: string, name: string): K8sObject[] {
  const out: K8sObject[] = []
  for (const v of views) {
    const o = v.get(kind, namespace, name)
    if (o && !out.includes(o)) out.push(o)
  }
  return out
}

const ROUTE_SCHEME: Record<string, ListenerScheme> = {
  HTTP: 'http',
  HTTPS: 'https',
  TLS: 'tls',
  TCP: 'tcp',
  UDP: 'udp',
}

/** Classes for a Gateway API route through one Gateway parentRef, competing routes' values included. */
function gatewayRouteClasses(out: ClassSet, views: readonly View[], obj: K8sObject, p: ParentRef): void {
  const r = route(obj)
  const kind = String(obj.kind)
  let fanout = 0
  for (const gw of bothViews(views, KIND.Gateway, p.namespace, p.name)) {
    const att = attachment(gw, p, kind, nsOf(obj), views[0]!)
    for (const l of att.attached.length ? att.attached : att.selected) {
      const scheme = ROUTE_SCHEME[l.protocol]
      if (!scheme || l.port === undefined) continue
      const entry: Entry = { type: 'gateway', namespace: nsOf(gw), name: nameOf(gw), listener: l.name, port: l.port, scheme }
      for (const h of effectiveHostnames(r.hostnames, l.hostname)) {
        if (++fanout > MAX_ENTRIES) return
        const host = concrete(h)
        if (scheme === 'tcp' || scheme === 'udp') {
          out.add(entry, { scheme, host: undefined, port: l.port, method: 'GET', path: '/', headers: {} })
          continue
        }
        if (scheme === 'tls' && kind === 'TLSRoute') {
          out.add(entry, { scheme: 'tls', host, port: l.port, method: 'GET', path: '/', headers: {}, sni: host })
          continue
        }
        const values = new Values(out.stopAt)
        values.own(obj)
        // the routes on this parent under this hostname compete for the same requests
        const pk = parentKey({ index: 0, group: GATEWAY_GROUP, kind: 'Gateway', namespace: nsOf(gw), name: nameOf(gw) })
        let others = 0
        for (const v of views) {
          for (const k of [KIND.HTTPRoute, KIND.GRPCRoute]) {
            for (const posting of v.routesOnParent(k, pk, h)) {
              if (idOf(posting.obj) !== idOf(obj)) others++
              values.competitor(posting.obj)
            }
          }
        }
        if (out.servedOnly && others === 0) continue
        out.http(entry, values, host, l.port, scheme === 'tls' ? 'https' : scheme)
      }
    }
  }
}

/**
 * Namespaces whose sidecars see a mesh host: the owner's, those exportTo names, those of
 * competing routes (a consumer route's clients), and for a public host (`*`, or no exportTo)
 * one namespace outside all of them, which exportTo decides for: the first Namespace the view
 * holds besides those, else `default`.
 */
function meshClients(views: readonly View[], owner: string, exportTo: readonly string[], competitors: Iterable<K8sObject>): string[] {
  const out = new Set<string>([owner])
  for (const s of exportTo) if (s !== '*' && s !== '.' && s !== '~') out.add(s)
  for (const c of competitors) out.add(nsOf(c))
  if (exportTo.length === 0 || exportTo.includes('*')) {
    let outsider: string | undefined
    for (const v of views) {
      for (const n of v.objectsIn(KIND.Namespace, '')) {
        if (out.has(nameOf(n))) continue
        outsider ??= nameOf(n)
        break
      }
    }
    out.add(outsider ?? (out.has('default') ? 'other' : 'default'))
  }
  return [...out].slice(0, 5)
}

/** Classes for requests to a mesh host (a Service FQDN or another host) from the sidecars that see it. */
function meshHostClasses(out: ClassSet, views: readonly View[], fqdn: string, ownerNs: string, exportTo: readonly string[], own: K8sObject[]): void {
  const values = new Values(out.stopAt)
  for (const o of own) values.own(o)
  const competitors: K8sObject[] = []
  for (const v of views) {
    for (const p of v.meshHostsMatching(fqdn)) if (hostsMatch(p.host, fqdn)) competitors.push(p.obj)
    for (const p of v.serviceRoutesMatching(fqdn)) competitors.push(p.obj)
  }
  for (const c of competitors) values.competitor(c)
  const host = concrete(fqdn)
  const svc = serviceOfFQDN(host)
  let port = 80
  if (svc) for (const v of views) port = servicePorts(v.get(KIND.Service, svc.namespace, svc.name) ?? {})[0] ?? port
  // nothing served the host (no other route, no Service or ServiceEntry): nothing to take
  const mine = new Set(own.map(idOf))
  if (out.servedOnly && !competitors.some((c) => !mine.has(idOf(c))) && !views.some((v) => !isEmpty(v.serviceHostsMatching(fqdn)))) return
  for (const from of meshClients(views, ownerNs, exportTo, competitors)) out.http({ type: 'mesh', from }, values, host, port, 'http')
}

/** Classes for a VirtualService (one version): its mesh hosts, and its hosts on each Istio Gateway it binds. */
function virtualServiceClasses(out: ClassSet, views: readonly View[], obj: K8sObject): void {
  const f = virtualService(obj)
  const ns = nsOf(obj)
  let fanout = 0
  if (f.mesh) {
    for (const h of f.hosts) {
      if (++fanout > MAX_ENTRIES) return
      meshHostClasses(out, views, toFQDN(h, ns), ns, strs(rec(obj.spec).exportTo), [obj])
    }
  }
  for (const g of f.gateways) {
    const ref = gatewayRef(g, ns)
    for (const igw of bothViews(views, KIND.IstioGateway, ref.namespace, ref.name)) {
      for (const server of istioGateway(igw).servers) {
        const https = server.https
        const entry: Entry = { type: 'istio-gateway', namespace: ref.namespace, name: ref.name, port: server.port, scheme: https ? 'https' : 'http' }
        for (const h of f.hosts) {
          // a server host is `[namespace/]host`: it must admit this VirtualService for the host
          if (!server.hosts.some((sh) => serverAdmits(sh, ref.namespace, ns, h))) continue
          if (++fanout > MAX_ENTRIES) return
          const values = new Values(out.stopAt)
          values.own(obj)
          let others = 0
          for (const v of views) {
            for (const other of v.virtualServicesOnGatewayFor(`${ref.namespace}/${ref.name}`, h)) {
              if (idOf(other.obj) !== idOf(obj)) others++
              values.competitor(other.obj)
            }
          }
          if (out.servedOnly && others === 0) continue
          out.http(entry, values, concrete(h), server.port, https ? 'https' : 'http')
        }
      }
    }
  }
}

function addClasses(out: ClassSet, change: Change, views: readonly View[]): void {
  for (const obj of [change.before, change.after]) {
    if (!obj) continue
    const kind = kindKeyOf(obj)
    const ns = nsOf(obj)
    switch (kind) {
      case KIND.HTTPRoute:
      case KIND.GRPCRoute:
      case KIND.TLSRoute:
      case KIND.TCPRoute:
      case KIND.UDPRoute:
        for (const p of route(obj).parentRefs) {
          if (isGatewayParent(p)) gatewayRouteClasses(out, views, obj, p)
          else if (isServiceParent(p) && kind !== KIND.TLSRoute && kind !== KIND.TCPRoute && kind !== KIND.UDPRoute) meshHostClasses(out, views, serviceFQDN(p.name, p.namespace), p.namespace, [], [obj])
        }
        break
      case KIND.VirtualService:
        virtualServiceClasses(out, views, obj)
        break
      case KIND.DestinationRule: {
        const host = toFQDN(str(rec(obj.spec).host) ?? '', ns)
        meshHostClasses(out, views, host, ns, strs(rec(obj.spec).exportTo), [])
        // VirtualServices on Istio Gateways that route to the host: found by their mesh host
        // postings only; gateway-bound ones that send to it are not indexed by destination
        break
      }
      case KIND.Service:
        meshHostClasses(out, views, serviceFQDN(nameOf(obj), ns), ns, [], [])
        break
      case KIND.Gateway: {
        const pk = parentKey({ index: 0, group: GATEWAY_GROUP, kind: 'Gateway', namespace: ns, name: nameOf(obj) })
        const seen = new Set<K8sObject>()
        for (const v of views) {
          for (const k of [KIND.HTTPRoute, KIND.GRPCRoute, KIND.TLSRoute, KIND.TCPRoute, KIND.UDPRoute]) {
            for (const posting of v.routesOnParent(k, pk, undefined)) {
              if (seen.has(posting.obj) || seen.size >= MAX_ENTRIES) continue
              seen.add(posting.obj)
              for (const p of route(posting.obj).parentRefs) if (isGatewayParent(p) && p.namespace === ns && p.name === nameOf(obj)) gatewayRouteClasses(out, views, posting.obj, p)
            }
          }
        }
        // a listener no route attaches to: its requests get 404 before and after, nothing moves
        break
      }
      case KIND.IstioGateway: {
        const seen = new Set<K8sObject>()
        for (const v of views) {
          for (const vs of v.virtualServicesOnGateway(`${ns}/${nameOf(obj)}`)) {
            if (seen.has(vs) || seen.size >= MAX_ENTRIES) continue
            seen.add(vs)
            virtualServiceClasses(out, views, vs)
          }
        }
        break
      }
      default:
        break
    }
  }
}
