/**
 * Gateway API routing, as a conformant implementation serves a request: the model `routeguard trace`
 * runs and the conflict rules' precedence follows. Pure functions of (view, request).
 *
 * Sources (Gateway API v1.4/v1.6, `apis/v1`):
 * - listener selection: `Listener.hostname` ("the most specific match wins"), `Listener.port`,
 *   `protocol` (HTTP/HTTPS for HTTPRoute and GRPCRoute, TLS Passthrough for TLSRoute);
 * - attachment: `ParentReference` (sectionName, port), `AllowedRoutes` (namespaces, kinds), and
 *   hostname intersection (`HTTPRouteSpec.hostnames`); a request is matched against the routes of
 *   the most specific hostname that matches it first (one virtual host per hostname, as Envoy-based
 *   implementations do);
 * - `HTTPRouteMatch` (path Exact / PathPrefix by path element / RegularExpression, headers with
 *   case-insensitive names, query params, method) and the precedence of `HTTPRouteRule`: Exact
 *   path, longest PathPrefix, method, most headers, most query params, then the oldest route, then
 *   `{namespace}/{name}`, then rule and match order. RegularExpression paths rank below every
 *   PathPrefix (the spec leaves them implementation-specific);
 * - `GRPCRouteRule` precedence: service characters, method characters, header matches;
 * - `HTTPBackendRef`: invalid references (unknown kind, missing Service, cross-namespace without a
 *   ReferenceGrant) get 500 for their share; a rule without usable backends and no redirect → 500;
 *   no matching rule → 404;
 * - filters: `HTTPRequestRedirectFilter` (scheme, hostname, port with the spec's well-known-port
 *   rules, path ReplaceFullPath / ReplacePrefixMatch, status 302 by default), `HTTPURLRewriteFilter`,
 *   `HTTPHeaderFilter` (request and response; backendRef-level too), `HTTPRequestMirrorFilter`;
 * - GAMMA (GEP-1294, GEP-1426): routes whose parentRef is a Service; a consumer route (in the
 *   client's namespace) hides the producer routes for that client; the parentRef's port narrows;
 *   with no route the request goes to the Service itself.
 */
import { arr, describeRef, type K8sObject, KIND, nameOf, nsOf, num, rec, refOf, str } from '../model/object.js'
import { hostSpecificity, serviceFQDN } from '../model/hosts.js'
import { fullMatch } from './regex.js'
import { attachment, effectiveHostnames, type Listener, listeners, referenceGranted, route, servicePortName, servicePorts, trimPrefix, unsupportedFilterValue } from '../model/gatewayapi.js'
import { parentKey, type View } from '../view/view.js'
import { effectiveBackendTLSPolicy } from '../status/backend-tls-policy.js'
import {
  addHeader,
  type BackendRequest,
  type Candidate,
  defaultPort,
  forwardedStatus,
  header,
  queryParam,
  removeHeader,
  requestTarget,
  setHeader,
  unchanged,
  type Redirect,
  type RouteRef,
  type TraceRequest,
  type TraceResult,
  type TracedBackend,
} from './types.js'

/** How a matching route match ranks; higher sorts first, field by field. */
interface Rank {
  /** `hostSpecificity` of the hostname the route serves the request under */
  host: number
  exact: number
  prefix: number
  method: number
  headers: number
  query: number
}

interface Hit {
  obj: K8sObject
  rule: number
  match: number | null
  rank: Rank
  /** the matched PathPrefix value (ReplacePrefixMatch needs it) */
  prefix?: string
  hostname: string
}


/** PathPrefix by path element: `/abc` matches `/abc`, `/abc/` and `/abc/d`, not `/abcd`. */
export function prefixMatches(prefix: string, path: string): boolean {
  const p = trimPrefix(prefix)
  if (p === '/') return true
  return path === p || path.startsWith(`${p}/`)
}

/**
 * Do all `{name, type, value}` matches (HTTPHeaderMatch, HTTPQueryParamMatch, GRPCHeaderMatch)
 * hold? `lookup` gives the request's value for a name; type Exact (default) or RegularExpression.
 */
function allMatch(entries: unknown[], lookup: (name: string) => string | undefined): boolean {
  for (const e of entries) {
    const x = rec(e)
    const got = lookup(str(x.name) ?? '')
    if (got === undefined) return false
    if ((str(x.type) ?? 'Exact') === 'RegularExpression' ? !fullMatch(str(x.value) ?? '', got) : got !== str(x.value)) return false
  }
  return true
}

/**
 * Does an `HTTPRouteMatch` select the request? @returns its rank parts, or undefined when it does
 * not match. `raw` undefined is a rule without matches (PathPrefix `/`).
 */
export function httpMatch(raw: unknown, req: TraceRequest): (Omit<Rank, 'host'> & { matchedPrefix?: string }) | undefined {
  const m = rec(raw)
  const path = rec(m.path)
  const type = str(path.type) ?? 'PathPrefix'
  const value = str(path.value) ?? '/'
  let exact = 0
  let prefix = 0
  let matchedPrefix: string | undefined
  if (type === 'Exact') {
    if (req.path !== value) return undefined
    exact = 1
  } else if (type === 'RegularExpression') {
    if (!fullMatch(value, req.path)) return undefined
  } else {
    if (!prefixMatches(value, req.path)) return undefined
    const v = trimPrefix(value)
    prefix = v.length + 1 // a PathPrefix outranks every regex, even `/`
    matchedPrefix = v
  }
  const method = str(m.method)
  if (method !== undefined && method !== req.method) return undefined
  const headers = arr(m.headers)
  if (!allMatch(headers, (name) => header(req.headers, name))) return undefined
  const query = arr(m.queryParams)
  if (!allMatch(query, (name) => queryParam(req.query, name))) return undefined
  return { exact, prefix, method: method ? 1 : 0, headers: headers.length, query: query.length, ...(matchedPrefix ? { matchedPrefix } : {}) }
}

/** Does a `GRPCRouteMatch` select the request? @returns its rank, or undefined. */
export function grpcMatch(raw: unknown, req: TraceRequest): Omit<Rank, 'host'> | undefined {
  const m = rec(raw)
  const method = rec(m.method)
  const service = str(method.service)
  const name = str(method.method)
  const got = req.grpc
  if (service !== undefined || name !== undefined) {
    if (!got) return undefined
    const regex = str(method.type) === 'RegularExpression'
    if (service !== undefined && !(regex ? fullMatch(service, got.service) : got.service === service)) return undefined
    if (name !== undefined && !(regex ? fullMatch(name, got.method) : got.method === name)) return undefined
  }
  const headers = arr(m.headers)
  if (!allMatch(headers, (name) => header(req.headers, name))) return undefined
  return { exact: service?.length ?? 0, prefix: name?.length ?? 0, method: 0, headers: headers.length, query: 0 }
}

/** Oldest first (creationTimestamp), then by `namespace/name`: the tie-break of both APIs. */
export function byAge(a: K8sObject, b: K8sObject): number {
  const ta = Date.parse(str(rec(a.metadata).creationTimestamp) ?? '') || 0
  const tb = Date.parse(str(rec(b.metadata).creationTimestamp) ?? '') || 0
  if (ta !== tb) return ta - tb
  const na = `${nsOf(a)}/${nameOf(a)}`
  const nb = `${nsOf(b)}/${nameOf(b)}`
  return na < nb ? -1 : na > nb ? 1 : 0
}

/** Orders hits by the spec's precedence: rank, then oldest route, then namespace/name, then rule and match order. */
export function byPrecedence(a: Hit, b: Hit): number {
  const ra = a.rank
  const rb = b.rank
  const d =
    rb.host - ra.host || rb.exact - ra.exact || rb.prefix - ra.prefix || rb.method - ra.method || rb.headers - ra.headers || rb.query - ra.query
  if (d) return d
  const age = a.obj === b.obj ? 0 : byAge(a.obj, b.obj)
  if (age) return age
  return a.rule - b.rule || (a.match ?? -1) - (b.match ?? -1)
}


/** Does a Gateway API hostname (`*.example.com` covers one or more labels) match the request host? */
export function hostnameMatches(hostname: string, host: string | undefined): boolean {
  if (hostname === '*') return true
  if (host === undefined) return false
  const h = host.toLowerCase()
  const n = hostname.toLowerCase()
  if (n.startsWith('*.')) return h.endsWith(n.slice(1)) && h.length > n.length - 1
  return h === n
}

/**
 * The route hostname the request is served under on a listener: the most specific of the route's
 * effective hostnames (its own intersected with the listener's; the listener's, or `*`, when it
 * sets none) that matches the host; undefined when the route does not serve this host there.
 */
function servedHostname(obj: K8sObject, listener: Listener | undefined, host: string | undefined): string | undefined {
  let best: string | undefined
  for (const h of effectiveHostnames(route(obj).hostnames, listener?.hostname)) if (hostnameMatches(h, host) && (best === undefined || byHostRank(h, best) < 0)) best = h
  return best
}

/** More specific hostname first (exact names, then longer wildcards, `*` last): < 0 when `a` is. */
function byHostRank(a: string, b: string): number {
  return hostSpecificity(b) - hostSpecificity(a)
}

/**
 * The workloads (Deployments and other Pod templates, or Pods) a Service selects in its namespace;
 * `subsetLabels` (an Istio subset's) narrow the selector. A Service without a selector selects none.
 */
export function serviceWorkloads(view: View, service: K8sObject | undefined, subsetLabels: Record<string, string> = {}): TracedBackend['workloads'] {
  if (!service) return []
  const own = rec(rec(service.spec).selector) as Record<string, string>
  if (Object.keys(own).length === 0) return sliceWorkloads(view, service)
  const selector = { ...own, ...subsetLabels }
  const ns = nsOf(service)
  const out: TracedBackend['workloads'] = []
  for (const w of view.workloadsSelected(selector)) if (w.namespace === ns) out.push({ kind: String(w.obj.kind), namespace: ns, name: nameOf(w.obj) })
  return out
}

/**
 * The Pods of a Service without a selector: the `targetRef`s of the endpoints of its
 * EndpointSlices (label `kubernetes.io/service-name`), ready or of unknown readiness, at most 100.
 * Empty when the slices hold no endpoints (filled at run time) or are not in the view.
 */
function sliceWorkloads(view: View, service: K8sObject): TracedBackend['workloads'] {
  const ns = nsOf(service)
  const out: TracedBackend['workloads'] = []
  const seen = new Set<string>()
  for (const slice of view.objectsIn(KIND.EndpointSlice, ns)) {
    if (slice.metadata?.labels?.['kubernetes.io/service-name'] !== nameOf(service)) continue
    for (const e of arr((slice as Record<string, unknown>).endpoints)) {
      const ref = rec(rec(e).targetRef)
      if (rec(rec(e).conditions).ready === false || !str(ref.name)) continue
      const key = `${str(ref.kind) ?? 'Pod'}/${str(ref.namespace) ?? ns}/${str(ref.name)}`
      if (seen.has(key) || out.length >= 100) continue
      seen.add(key)
      out.push({ kind: str(ref.kind) ?? 'Pod', namespace: str(ref.namespace) ?? ns, name: str(ref.name)! })
    }
  }
  return out
}

/** Backend kinds besides core Service that routes may name (as the route status model accepts them). */
const EXTRA_BACKEND_KINDS = new Set(['multicluster.x-k8s.io/ServiceImport', 'networking.istio.io/Hostname'])

interface BackendOptions {
  /** the mesh Service the route is attached to: a consumer route's backendRef to it needs no ReferenceGrant (GEP-1426) */
  parentService?: { namespace: string; name: string }
  /**
   * The Gateway opens the connection to the backend (HTTP and GRPC routes, TLSRoute termination):
   * the BackendTLSPolicy for the backend's Service port applies (Extended support; in the mesh
   * and for passthrough it does not).
   */
  originatesTLS?: boolean
}

/**
 * One `backendRef` of a route in `routeNs`, resolved against the view (HTTPBackendRef rules). A
 * backend whose BackendTLSPolicy cannot validate it is invalid: connections with an invalid
 * caCertificateRef MUST fail with a 5xx (BackendTLSPolicy `validation.caCertificateRefs`).
 */
function backend(view: View, routeKind: string, routeNs: string, raw: unknown, opts: BackendOptions = {}): TracedBackend {
  const parentService = opts.parentService
  const b = rec(raw)
  const group = str(b.group) ?? ''
  const kind = str(b.kind) ?? 'Service'
  const namespace = str(b.namespace) ?? routeNs
  const name = str(b.name) ?? ''
  const port = num(b.port) ?? null
  const weight = num(b.weight) ?? 1
  const out: TracedBackend = { kind, namespace, name, port, weight, workloads: [] }
  // the other backend kinds the route status model accepts (Extended: MCS ServiceImport; Istio's
  // Hostname): routed to, their workloads unknown to a static model
  if (EXTRA_BACKEND_KINDS.has(`${group}/${kind}`)) return out
  if (group !== '' || kind !== 'Service') return { ...out, invalid: `InvalidKind: ${group ? `${group}/` : ''}${kind} is not a Service` }
  const ownParent = parentService?.namespace === namespace && parentService.name === name
  if (namespace !== routeNs && !ownParent && !referenceGranted((ns) => view.referenceGrantsIn(ns), namespace, routeKind, routeNs, 'Service', name)) {
    return { ...out, invalid: `RefNotPermitted: no ReferenceGrant in ${namespace} lets ${routeKind}s in ${routeNs} reference Service ${name}` }
  }
  const service = view.get(KIND.Service, namespace, name)
  if (!service) return { ...out, invalid: `BackendNotFound: Service ${namespace}/${name} not found` }
  if (port !== null && !servicePorts(service).includes(port)) return { ...out, invalid: `BackendNotFound: Service ${namespace}/${name} has no port ${port}` }
  const workloads = serviceWorkloads(view, service)
  const tls = opts.originatesTLS ? effectiveBackendTLSPolicy(view, namespace, name, servicePortName(service, port)) : undefined
  if (tls?.invalid) return { ...out, workloads, invalid: tls.invalid }
  return { ...out, workloads, ...(tls ? { tls: { policy: describeRef(refOf(tls.policy)), sni: tls.sni } } : {}) }
}

/** Applies an `HTTPHeaderFilter` (set, add, remove) to `headers` in place. */
function modifyHeaders(headers: Record<string, string>, filter: unknown): void {
  const f = rec(filter)
  for (const x of arr(f.set)) setHeader(headers, str(rec(x).name) ?? '', str(rec(x).value) ?? '')
  for (const x of arr(f.add)) addHeader(headers, str(rec(x).name) ?? '', str(rec(x).value) ?? '')
  for (const x of arr(f.remove)) removeHeader(headers, String(x))
}

/**
 * `ReplacePrefixMatch`: the matched prefix replaced, one `/` between replacement and rest
 * (`/foo` → `/xyz`: `/foo/bar` → `/xyz/bar`; → `/`: `/foo/bar` → `/bar`, `/foo` → `/`).
 */
export function replacePrefix(path: string, matched: string, replacement: string): string {
  const rest = matched === '/' ? (path === '/' ? '' : path) : path.slice(matched.length)
  const out = rest === '' ? replacement : replacement.endsWith('/') ? replacement + rest.slice(1) : replacement + rest
  return out || '/'
}

function rewrittenPath(path: string, modifier: unknown, matchedPrefix: string | undefined): string {
  const m = rec(modifier)
  const type = str(m.type)
  if (type === 'ReplaceFullPath') return str(m.replaceFullPath) ?? path
  if (type === 'ReplacePrefixMatch') return replacePrefix(path, matchedPrefix ?? '/', str(m.replacePrefixMatch) ?? '/')
  return path
}

/**
 * What the winning rule does with the request: redirect, or backends with the request they get.
 * `listenerPort` is the port a redirect without scheme or port keeps.
 */
function serve(view: View, hit: Hit, req: TraceRequest, listenerPort: number, via: string, candidates: Candidate[], meshService?: { namespace: string; name: string }): TraceResult {
  const obj = hit.obj
  const kind = String(obj.kind)
  const rule = rec(arr(rec(obj.spec).rules)[hit.rule])
  const route: RouteRef = { kind, namespace: nsOf(obj), name: nameOf(obj), rule: hit.rule, match: hit.match }
  // through a Gateway (no mesh Service), the Gateway opens the backend connection and applies BackendTLSPolicy
  const backendOptions: BackendOptions = meshService ? { parentService: meshService } : { originatesTLS: true }
  const headers = { ...req.headers }
  let path = req.path
  let host = req.host
  let redirect: Redirect | null = null
  const response = { set: {} as Record<string, string>, add: {} as Record<string, string>, remove: [] as string[] }
  let responseTouched = false
  const mirrors: TracedBackend[] = []
  for (const f of arr(rule.filters)) {
    const filter = rec(f)
    // a value the API does not define: the controller does not program the rule as written (500)
    const bad = unsupportedFilterValue(filter)
    if (bad) return { status: 500, route, backends: [], backendRequest: null, redirect: null, via: `${via}: ${bad[0]} ${bad[1]} is not a value the Gateway API defines (Accepted=False/UnsupportedValue)`, candidates }
    switch (str(filter.type)) {
      case 'RequestHeaderModifier':
        modifyHeaders(headers, filter.requestHeaderModifier)
        break
      case 'ResponseHeaderModifier': {
        const r = rec(filter.responseHeaderModifier)
        for (const s of arr(r.set)) response.set[str(rec(s).name) ?? ''] = str(rec(s).value) ?? ''
        for (const a of arr(r.add)) response.add[str(rec(a).name) ?? ''] = str(rec(a).value) ?? ''
        for (const x of arr(r.remove)) response.remove.push(String(x))
        responseTouched = true
        break
      }
      case 'URLRewrite': {
        const u = rec(filter.urlRewrite)
        if (str(u.hostname)) host = str(u.hostname)
        if (u.path) path = rewrittenPath(path, u.path, hit.prefix)
        break
      }
      case 'RequestRedirect': {
        const r = rec(filter.requestRedirect)
        const scheme = str(r.scheme) ?? req.scheme
        let port: number | null = num(r.port) ?? (str(r.scheme) ? defaultPort(scheme) : listenerPort)
        if (port === defaultPort(scheme) && (scheme === 'http' || scheme === 'https')) port = null
        redirect = { statusCode: num(r.statusCode) ?? 302, scheme, host: str(r.hostname) ?? req.host, port, path: r.path ? rewrittenPath(req.path, r.path, hit.prefix) : req.path }
        break
      }
      case 'RequestMirror': {
        const m = rec(filter.requestMirror)
        mirrors.push(backend(view, kind, nsOf(obj), m.backendRef, backendOptions))
        break
      }
      default:
        break
    }
  }
  if (redirect) {
    return { status: redirect.statusCode, route, backends: [], backendRequest: null, redirect, via, candidates, ...(responseTouched ? { responseHeaders: response } : {}) }
  }
  const backends = arr(rule.backendRefs).map((b) => backend(view, kind, nsOf(obj), b, backendOptions))
  const usable = backends.filter((b) => !b.invalid && b.weight > 0)
  const status = usable.length ? forwardedStatus(req, kind) : 500
  // backendRef-level filters: what the first usable backend receives (each backend may differ)
  const first = arr(rule.backendRefs).find((b, i) => backends[i] === usable[0])
  const backendHeaders = { ...headers }
  for (const f of arr(rec(first).filters)) if (str(rec(f).type) === 'RequestHeaderModifier') modifyHeaders(backendHeaders, rec(f).requestHeaderModifier)
  const timeouts = rec(rule.timeouts)
  const policies = { ...(str(timeouts.request) ? { timeout: str(timeouts.request) } : {}), ...(str(timeouts.backendRequest) ? { backendTimeout: str(timeouts.backendRequest) } : {}) }
  const target = kind === 'GRPCRoute' && req.grpc ? `/${req.grpc.service}/${req.grpc.method}` : requestTarget(path, req.query)
  const sni = usable[0]?.tls?.sni
  const backendRequest: BackendRequest | null = usable.length ? { method: req.method, path: target, host, headers: backendHeaders, ...(sni ? { sni } : {}) } : null
  return {
    status,
    route,
    backends,
    backendRequest,
    redirect: null,
    via,
    candidates,
    ...(responseTouched ? { responseHeaders: response } : {}),
    ...(mirrors.length ? { mirrors } : {}),
    ...(Object.keys(policies).length ? { policies } : {}),
  }
}

/** Matching rules of `obj` for the request, with their rank. */
function hits(obj: K8sObject, req: TraceRequest, hostname: string): Hit[] {
  const grpc = obj.kind === 'GRPCRoute'
  const out: Hit[] = []
  const rules = arr(rec(obj.spec).rules)
  for (let r = 0; r < rules.length; r++) {
    const matches = arr(rec(rules[r]).matches)
    const list: (unknown | undefined)[] = matches.length ? matches : [undefined]
    for (let i = 0; i < list.length; i++) {
      const m = grpc ? grpcMatch(list[i], req) : httpMatch(list[i], req)
      if (!m) continue
      const { matchedPrefix, ...rank } = m as Omit<Rank, 'host'> & { matchedPrefix?: string }
      out.push({ obj, rule: r, match: matches.length ? i : null, rank: { host: hostSpecificity(hostname), ...rank }, ...(matchedPrefix ? { prefix: matchedPrefix } : {}), hostname })
    }
  }
  return out
}

/** Picks the winner among candidate routes; `served` gives the hostname each serves the request under. */
function choose(view: View, routes: { obj: K8sObject; hostname: string }[], req: TraceRequest, listenerPort: number, via: string, candidates: Candidate[], meshService?: { namespace: string; name: string }, explain = true): TraceResult {
  const all: Hit[] = []
  for (const r of routes) {
    const h = hits(r.obj, req, r.hostname)
    if (h.length === 0 && explain) candidates.push({ kind: String(r.obj.kind), namespace: nsOf(r.obj), name: nameOf(r.obj), rule: null, result: 'no-match', why: 'no rule matches the request' })
    all.push(...h)
  }
  all.sort(byPrecedence)
  const win = all[0]
  if (!win) return { status: 404, route: null, backends: [], backendRequest: null, redirect: null, via, candidates }
  const seen = explain ? new Set<string>() : undefined
  // the routes that lost, and why (not for a caller tracing in bulk: `explain` false)
  if (seen) for (const h of all.slice(1)) {
    const key = `${describeRef(refOf(h.obj))}#${h.rule}`
    if (seen.has(key) || (h.obj === win.obj && h.rule === win.rule)) continue
    seen.add(key)
    const why = outrankedBy(win, h)
    candidates.push({ kind: String(h.obj.kind), namespace: nsOf(h.obj), name: nameOf(h.obj), rule: h.rule, result: 'outranked', why })
  }
  candidates.unshift({ kind: String(win.obj.kind), namespace: nsOf(win.obj), name: nameOf(win.obj), rule: win.rule, result: 'won', why: `match ${win.match ?? '(none: every request)'} of rule ${win.rule}` })
  return serve(view, win, req, listenerPort, via, candidates, meshService)
}

/** Why `win` outranks `lost`: the first precedence step that tells them apart. */
function outrankedBy(win: Hit, lost: Hit): string {
  const w = win.rank
  const l = lost.rank
  const by = `${describeRef(refOf(win.obj))} rule ${win.rule}`
  if (w.host !== l.host) return `${by} is under the more specific hostname ${win.hostname}`
  if (w.exact !== l.exact) return `${by} matches the path exactly`
  if (w.prefix !== l.prefix) return `${by} matches a longer path prefix (${win.prefix ?? '(regex)'})`
  if (w.method !== l.method) return `${by} also matches the method`
  if (w.headers !== l.headers) return `${by} matches more headers (${w.headers} against ${l.headers})`
  if (w.query !== l.query) return `${by} matches more query parameters (${w.query} against ${l.query})`
  if (win.obj !== lost.obj) return `same precedence: ${by} belongs to the older route (or the first by namespace/name)`
  return `same precedence: ${by} comes first in the route`
}

/** Listener protocols that carry the request: HTTP for plain HTTP, HTTPS for TLS-terminated, TLS for passthrough. */
function listenerFor(gateway: K8sObject, req: TraceRequest, passthrough: boolean): Listener | undefined {
  const tls = req.scheme === 'https' || req.scheme === 'wss' || req.scheme === 'tls'
  const name = tls ? (req.sni ?? req.host) : req.host
  let best: Listener | undefined
  for (const l of listeners(gateway)) {
    if (l.port !== req.port) continue
    const ok = passthrough ? l.protocol === 'TLS' : tls ? l.protocol === 'HTTPS' : l.protocol === 'HTTP'
    if (!ok || !hostnameMatches(l.hostname ?? '*', name)) continue
    if (!best || byHostRank(l.hostname ?? '*', best.hostname ?? '*') < 0) best = l
  }
  return best
}

/**
 * A request sent to `gateway` on `req.port`: the listener, the routes attached to it, the winner.
 * TLS passthrough (a TLS listener on the port, no HTTPS one for the SNI) routes by SNI (TLSRoute).
 */
/**
 * What `traceGateway` found attached under one listener and hostname, kept by a caller that
 * traces many requests on one unchanged view (impact/impact.ts): the per-request work is then the
 * match precedence only. Such a caller reads outcomes, not explanations: with a memo the
 * candidates hold the winner (and, on the first trace of a key, the routes not attached or
 * losing on the hostname), not the routes that matched and lost. Keyed by Gateway, listener,
 * route kinds and host.
 */
export type GatewayTraceMemo = Map<string, { competing: { obj: K8sObject; hostname: string }[] }>

export function traceGateway(view: View, gateway: K8sObject, req: TraceRequest, memo?: GatewayTraceMemo): TraceResult {
  if (req.scheme === 'tcp' || req.scheme === 'udp') return traceL4(view, gateway, req)
  const candidates: Candidate[] = []
  // tls:// is a TLS connection only a passthrough listener takes (TLSRoute by SNI); https:// goes
  // to an HTTPS listener for the SNI first, else to a passthrough one
  const passthroughListener = req.scheme === 'tls' || (req.scheme === 'https' && !listenerFor(gateway, req, false)) ? listenerFor(gateway, req, true) : undefined
  if (req.scheme === 'tls' && !passthroughListener) return { status: 404, route: null, backends: [], backendRequest: null, redirect: null, via: `Gateway ${nsOf(gateway)}/${nameOf(gateway)} port ${req.port}: no TLS passthrough listener for SNI ${req.sni ?? '(none)'}`, candidates: [] }
  const listener = passthroughListener ?? listenerFor(gateway, req, false)
  const gwRef = `Gateway ${nsOf(gateway)}/${nameOf(gateway)}`
  if (!listener) return { status: 404, route: null, backends: [], backendRequest: null, redirect: null, via: `${gwRef} port ${req.port}: no listener for host ${req.sni ?? req.host ?? '(address)'}`, candidates }
  const via = `${gwRef} listener ${listener.name}`
  const kinds = passthroughListener ? [KIND.TLSRoute] : req.grpc ? [KIND.GRPCRoute, KIND.HTTPRoute] : [KIND.HTTPRoute]
  const parent = parentKey({ index: 0, group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: nsOf(gateway), name: nameOf(gateway) })
  const routes: { obj: K8sObject; hostname: string }[] = []
  // the routes on this Gateway whose hostnames can match the request's (and those without
  // hostnames): a bucket lookup, not every route of a shared Gateway
  const host = passthroughListener ? req.sni : req.host
  const memoKey = memo ? `${nsOf(gateway)}/${nameOf(gateway)}\0${listener.name}\0${kinds.join()}\0${host ?? ''}` : ''
  const memoized = memo?.get(memoKey)
  if (!memoized) for (const kind of kinds) {
    const seen = new Set<K8sObject>()
    for (const p of view.routesOnParent(kind, parent, host)) {
      if (seen.has(p.obj)) continue
      seen.add(p.obj)
      // attached when any of its parentRefs to this Gateway reaches the listener
      const refs = route(p.obj).parentRefs.filter((r) => r.kind === 'Gateway' && r.namespace === nsOf(gateway) && r.name === nameOf(gateway))
      const stages = refs.map((r) => attachment(gateway, r, String(p.obj.kind), nsOf(p.obj), view))
      if (!stages.some((a) => a.attached.some((l) => l.name === listener.name))) {
        const selected = stages.some((a) => a.selected.some((l) => l.name === listener.name))
        candidates.push({ kind: String(p.obj.kind), namespace: nsOf(p.obj), name: nameOf(p.obj), rule: null, result: 'not-attached', why: selected ? `listener ${listener.name} does not allow it (allowedRoutes)` : `its parentRefs select other listeners (sectionName or port)` })
        continue
      }
      const hostname = servedHostname(p.obj, listener, passthroughListener ? req.sni : req.host)
      if (hostname === undefined) {
        candidates.push({ kind: String(p.obj.kind), namespace: nsOf(p.obj), name: nameOf(p.obj), rule: null, result: 'hostname', why: `its hostnames do not match ${req.host ?? 'an address'}` })
        continue
      }
      routes.push({ obj: p.obj, hostname })
    }
    if (routes.length && kind === KIND.GRPCRoute) break
  }
  // one virtual host per hostname: only routes under the most specific matching hostname compete
  let top: string | undefined
  for (const r of routes) if (top === undefined || byHostRank(r.hostname, top) < 0) top = r.hostname
  const competing = memoized?.competing ?? routes.filter((r) => r.hostname === top)
  if (memo && !memoized) memo.set(memoKey, { competing })
  for (const r of routes) if (r.hostname !== top) candidates.push({ kind: String(r.obj.kind), namespace: nsOf(r.obj), name: nameOf(r.obj), rule: null, result: 'hostname', why: `hostname ${top} is more specific than its ${r.hostname}` })
  if (passthroughListener) {
    // TLSRoutes under one hostname: the oldest wins (the spec's tie-break)
    const win = competing.sort((a, b) => byAge(a.obj, b.obj))[0]
    if (!win) return { status: 404, route: null, backends: [], backendRequest: null, redirect: null, via, candidates }
    const rule = rec(arr(rec(win.obj.spec).rules)[0])
    const backends = arr(rule.backendRefs).map((b) => backend(view, 'TLSRoute', nsOf(win.obj), b))
    const ok = backends.some((b) => !b.invalid && b.weight > 0)
    candidates.unshift({ kind: 'TLSRoute', namespace: nsOf(win.obj), name: nameOf(win.obj), rule: 0, result: 'won', why: `SNI ${req.sni} matches ${win.hostname}` })
    return { status: ok ? 200 : 500, route: { kind: 'TLSRoute', namespace: nsOf(win.obj), name: nameOf(win.obj), rule: 0, match: null }, backends, backendRequest: ok ? unchanged(req) : null, redirect: null, via, candidates }
  }
  return choose(view, competing, req, listener.port ?? req.port, via, candidates, undefined, memo === undefined)
}

/**
 * A TCP connection or UDP datagram sent to `gateway` on `req.port`: the TCP (UDP) listener on that
 * port, the TCPRoutes (UDPRoutes) attached to it, the oldest winning (the spec's tie-break for
 * routes no match tells apart), its first rule's backends. Status 200 when a backend is usable,
 * 500 when none is (the connection is refused), 404 when no such listener or route.
 */
function traceL4(view: View, gateway: K8sObject, req: TraceRequest): TraceResult {
  const candidates: Candidate[] = []
  const protocol = req.scheme.toUpperCase()
  const kind = protocol === 'TCP' ? KIND.TCPRoute : KIND.UDPRoute
  const kindName = kind.split('/')[1]!
  const gwRef = `Gateway ${nsOf(gateway)}/${nameOf(gateway)}`
  const listener = listeners(gateway).find((l) => l.port === req.port && l.protocol === protocol)
  const none = (via: string): TraceResult => ({ status: 404, route: null, backends: [], backendRequest: null, redirect: null, via, candidates })
  if (!listener) return none(`${gwRef} port ${req.port}: no ${protocol} listener`)
  const via = `${gwRef} listener ${listener.name}`
  const parent = parentKey({ index: 0, group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: nsOf(gateway), name: nameOf(gateway) })
  const attached: K8sObject[] = []
  for (const p of view.routesOnParent(kind, parent, undefined)) {
    if (attached.includes(p.obj)) continue
    const refs = route(p.obj).parentRefs.filter((r) => r.kind === 'Gateway' && r.namespace === nsOf(gateway) && r.name === nameOf(gateway))
    if (refs.some((r) => attachment(gateway, r, kindName, nsOf(p.obj), view).attached.some((l) => l.name === listener.name))) attached.push(p.obj)
    else candidates.push({ kind: kindName, namespace: nsOf(p.obj), name: nameOf(p.obj), rule: null, result: 'not-attached', why: `it does not attach to listener ${listener.name}` })
  }
  const [win, ...rest] = attached.sort(byAge)
  if (!win) return none(`${via}: no ${kindName} attached`)
  for (const r of rest) candidates.push({ kind: kindName, namespace: nsOf(r), name: nameOf(r), rule: null, result: 'shadowed', why: `${kindName} ${nsOf(win)}/${nameOf(win)} is older (the oldest route on a ${protocol} listener wins)` })
  candidates.unshift({ kind: kindName, namespace: nsOf(win), name: nameOf(win), rule: 0, result: 'won', why: `the oldest ${kindName} attached to listener ${listener.name}` })
  const backends = arr(rec(arr(rec(win.spec).rules)[0]).backendRefs).map((b) => backend(view, kindName, nsOf(win), b))
  const ok = backends.some((b) => !b.invalid && b.weight > 0)
  return { status: ok ? 200 : 500, route: { kind: kindName, namespace: nsOf(win), name: nameOf(win), rule: 0, match: null }, backends, backendRequest: null, redirect: null, via, candidates }
}

/**
 * The Service a client in `fromNamespace` reaches with `host` (Kubernetes DNS: `svc`, `svc.ns`,
 * `svc.ns.svc`, `svc.ns.svc.cluster.local`), or undefined.
 */
export function serviceForHost(view: View, host: string, fromNamespace: string): K8sObject | undefined {
  const parts = host.toLowerCase().replace(/\.$/, '').split('.')
  if (parts.length === 1) return view.get(KIND.Service, fromNamespace, parts[0]!)
  if (parts.length === 2 || (parts.length >= 3 && parts[2] === 'svc')) return view.get(KIND.Service, parts[1]!, parts[0]!)
  return undefined
}

/**
 * A request made inside the mesh by a client in `fromNamespace` (GAMMA): the Service the host
 * names, the routes whose parentRef is that Service (consumer routes of the client's namespace
 * first), the winner; with no route, the Service itself.
 */
export function traceMesh(view: View, fromNamespace: string, req: TraceRequest): TraceResult {
  const candidates: Candidate[] = []
  const service = req.host === undefined ? undefined : serviceForHost(view, req.host, fromNamespace)
  if (!service) return { status: 404, route: null, backends: [], backendRequest: null, redirect: null, via: `mesh from ${fromNamespace}: no Service for host ${req.host ?? '(address)'}`, candidates }
  const ns = nsOf(service)
  const name = nameOf(service)
  const via = `mesh from namespace ${fromNamespace} to Service ${ns}/${name} port ${req.port}`
  const kinds = req.grpc ? [KIND.GRPCRoute, KIND.HTTPRoute] : [KIND.HTTPRoute]
  const routes: K8sObject[] = []
  for (const kind of kinds) {
    for (const p of view.serviceRoutesMatching(serviceFQDN(name, ns))) {
      if (p.obj.kind !== kind.split('/')[1] || p.parent.namespace !== ns || p.parent.name !== name) continue
      if (p.parent.port !== undefined && p.parent.port !== req.port) {
        candidates.push({ kind: String(p.obj.kind), namespace: nsOf(p.obj), name: nameOf(p.obj), rule: null, result: 'not-attached', why: `its parentRef is for port ${p.parent.port}` })
        continue
      }
      if (!routes.includes(p.obj)) routes.push(p.obj)
    }
    if (routes.length) break
  }
  const consumer = routes.filter((r) => nsOf(r) === fromNamespace && fromNamespace !== ns)
  const producer = routes.filter((r) => nsOf(r) === ns)
  const used = consumer.length ? consumer : producer
  for (const r of routes) {
    if (used.includes(r)) continue
    candidates.push({ kind: String(r.kind), namespace: nsOf(r), name: nameOf(r), rule: null, result: 'not-attached', why: consumer.length && nsOf(r) === ns ? `a consumer route in ${fromNamespace} takes precedence over producer routes` : `a consumer route of namespace ${nsOf(r)} applies only to clients there` })
  }
  if (used.length === 0) {
    const port = arr(rec(service.spec).ports).map(rec).find((p) => num(p.port) === req.port)
    return {
      status: port ? 200 : 404,
      route: null,
      backends: [{ kind: 'Service', namespace: ns, name, port: req.port, weight: 1, workloads: serviceWorkloads(view, service) }],
      backendRequest: port ? unchanged(req) : null,
      redirect: null,
      via: `${via} (no route: the Service itself)`,
      candidates,
    }
  }
  return choose(view, used.map((obj) => ({ obj, hostname: '*' })), req, req.port, via, candidates, { namespace: ns, name })
}
