/**
 * Facts about Gateway API objects (HTTPRoute, GRPCRoute, Gateway) that rules and indexes share.
 *
 * Sources: Gateway API v1.6 `apis/v1` (HTTPRoute, GRPCRoute, Gateway, ParentReference defaults),
 * the HTTPRoute match precedence rules (HTTPRouteRule docs) and GEP-1294 (Service parents, GAMMA).
 */
import { joinFields } from './text.js'
import { arr, type Facts, factsOf, type K8sObject, KIND, kindKeyOf, lengthPrefixed, nameOf, nsOf, num, rec, str, strs } from './object.js'
import { hostsMatch, moreSpecific } from './hosts.js'

export const GATEWAY_GROUP = 'gateway.networking.k8s.io'

/** A parentRef with the spec's defaults applied (group gateway.networking.k8s.io, kind Gateway, route's namespace). */
export interface ParentRef {
  index: number
  group: string
  kind: string
  namespace: string
  name: string
  sectionName?: string
  port?: number
}

/**
 * One match of one rule, reduced to what decides which requests it selects. Kept small: facts
 * live as long as the object is in the view; the human form is made only for messages
 * (`describeRouteMatch`).
 */
export interface RouteMatch {
  ruleIndex: number
  /** undefined for a rule without matches (the default match) */
  matchIndex: number | undefined
  /** equal signatures select the same requests */
  sig: string
}

/** Field path of a match: `spec.rules[1].matches[0]` (or `spec.rules[1]` for the default match). */
export function routeMatchPath(m: RouteMatch): string {
  return m.matchIndex === undefined ? `spec.rules[${m.ruleIndex}]` : `spec.rules[${m.ruleIndex}].matches[${m.matchIndex}]`
}

/** Human form of a match for messages: `PathPrefix /api, method GET, header x-env = prod`. */
export function describeRouteMatch(obj: K8sObject, m: RouteMatch): string {
  const raw = m.matchIndex === undefined ? undefined : arr(rec(arr(rec(obj.spec).rules)[m.ruleIndex]).matches)[m.matchIndex]
  return kindKeyOf(obj) === KIND.GRPCRoute ? grpcMatchText(raw) : httpMatchText(raw)
}

export interface RouteFacts {
  kindKey: string
  kind: string
  namespace: string
  name: string
  hostnames: string[]
  parentRefs: ParentRef[]
  matches: RouteMatch[]
}

export function isRouteKind(kindKey: string | undefined): boolean {
  return kindKey === KIND.HTTPRoute || kindKey === KIND.GRPCRoute
}

export const route: Facts<RouteFacts> = factsOf(computeRoute)

function computeRoute(obj: K8sObject): RouteFacts {
  const spec = rec(obj.spec)
  const namespace = nsOf(obj)
  const kindKey = kindKeyOf(obj) ?? ''
  const grpc = kindKey === KIND.GRPCRoute
  return {
    kindKey,
    kind: str(obj.kind) ?? '',
    namespace,
    name: nameOf(obj),
    hostnames: distinctStrings(arr(spec.hostnames)),
    parentRefs: parentRefs(arr(spec.parentRefs), namespace),
    matches: routeMatches(arr(spec.rules), grpc ? grpcMatchSig : httpMatchSig),
  }
}

// Plain loops below, no Set, spread or callbacks for the usual handful of entries: on the
// admission path each builtin's first use after the server's other work is a cache miss.

/** The strings of `values`, first occurrence of each, in order (a Set past 16: hostile objects carry 10k hostnames). */
function distinctStrings(values: unknown[]): string[] {
  const out: string[] = []
  if (values.length > 16) {
    for (const v of new Set(values)) if (typeof v === 'string') out.push(v)
    return out
  }
  for (const v of values) if (typeof v === 'string' && !out.includes(v)) out.push(v)
  return out
}

function parentRefs(raw: unknown[], routeNamespace: string): ParentRef[] {
  const out: ParentRef[] = []
  for (let i = 0; i < raw.length; i++) out.push(parentRef(raw[i], i, routeNamespace))
  return out
}

function routeMatches(rules: unknown[], sig: (raw: unknown) => string): RouteMatch[] {
  const out: RouteMatch[] = []
  for (let ruleIndex = 0; ruleIndex < rules.length; ruleIndex++) {
    const matches = arr(rec(rules[ruleIndex]).matches)
    if (matches.length === 0) out.push({ ruleIndex, matchIndex: undefined, sig: sig(undefined) })
    for (let matchIndex = 0; matchIndex < matches.length; matchIndex++) out.push({ ruleIndex, matchIndex, sig: sig(matches[matchIndex]) })
  }
  return out
}

function parentRef(raw: unknown, index: number, routeNamespace: string): ParentRef {
  const p = rec(raw)
  return {
    index,
    group: str(p.group) ?? GATEWAY_GROUP,
    kind: str(p.kind) ?? 'Gateway',
    namespace: str(p.namespace) ?? routeNamespace,
    name: str(p.name) ?? '',
    sectionName: str(p.sectionName),
    port: num(p.port),
  }
}

export function isGatewayParent(p: ParentRef): boolean {
  return p.group === GATEWAY_GROUP && p.kind === 'Gateway'
}

export function isServiceParent(p: ParentRef): boolean {
  return p.group === '' && p.kind === 'Service'
}

interface HttpMatchParts {
  type: string
  value: string
  method: string | undefined
  headers: [string, string, string][]
  query: [string, string, string][]
}

/** A PathPrefix value without its trailing `/`s (`/api/` and `/api` select the same paths; `/` stays). */
export function trimPrefix(value: string): string {
  let end = value.length
  while (end > 1 && value.charCodeAt(end - 1) === 47 /* '/' */) end--
  return end < value.length ? value.slice(0, end) : value
}

/**
 * HTTPRoute match identity: path type and value (PathPrefix trailing `/` ignored; defaults
 * PathPrefix `/`), method, headers (names case-insensitive, first entry per name counts; type
 * defaults to Exact) and query params (names exact, first entry counts).
 */
function httpMatchParts(raw: unknown): HttpMatchParts {
  const m = rec(raw)
  const path = rec(m.path)
  const type = str(path.type) ?? 'PathPrefix'
  let value = str(path.value) ?? '/'
  if (type === 'PathPrefix') value = trimPrefix(value)
  return { type, value, method: str(m.method), headers: firstByName(arr(m.headers), true), query: firstByName(arr(m.queryParams), false) }
}

/** Equal signatures ⇔ the two HTTPRoute matches select the same requests. */
export function httpMatchSig(raw: unknown): string {
  const p = httpMatchParts(raw)
  const parts: (string | undefined)[] = ['http', p.type, p.value, p.method, String(p.headers.length)]
  for (const h of p.headers) parts.push(...h)
  parts.push(String(p.query.length))
  for (const q of p.query) parts.push(...q)
  return lengthPrefixed(parts)
}

export function httpMatchText(raw: unknown): string {
  const p = httpMatchParts(raw)
  return joinFields(
    [
      `${p.type} ${p.value}`,
      p.method ? `method ${p.method}` : '',
      ...p.headers.map(([n, t, v]) => `header ${n} ${t === 'Exact' ? '=' : '~'} ${v}`),
      ...p.query.map(([n, t, v]) => `query ${n} ${t === 'Exact' ? '=' : '~'} ${v}`),
    ].filter(Boolean),
  )
}

/** GRPCRoute match identity: method (type defaults to Exact; service, method) and headers. */
function grpcMatchParts(raw: unknown) {
  const m = rec(raw)
  const method = rec(m.method)
  return { type: str(method.type) ?? 'Exact', service: str(method.service) ?? '', name: str(method.method) ?? '', headers: firstByName(arr(m.headers), true) }
}

export function grpcMatchSig(raw: unknown): string {
  const p = grpcMatchParts(raw)
  const parts: string[] = ['grpc', p.type, p.service, p.name, String(p.headers.length)]
  for (const h of p.headers) parts.push(...h)
  return lengthPrefixed(parts)
}

export function grpcMatchText(raw: unknown): string {
  const p = grpcMatchParts(raw)
  return joinFields([
    p.service || p.name ? `${p.type} ${p.service || '*'}/${p.name || '*'}` : 'any method',
    ...p.headers.map(([n, t, v]) => `header ${n} ${t === 'Exact' ? '=' : '~'} ${v}`),
  ])
}

function firstByName(entries: unknown[], foldCase: boolean): [string, string, string][] {
  if (entries.length === 0) return []
  const seen = new Map<string, [string, string, string]>()
  for (const e of entries) {
    const r = rec(e)
    const raw = str(r.name)
    if (raw === undefined) continue
    const name = foldCase ? raw.toLowerCase() : raw
    if (!seen.has(name)) seen.set(name, [name, str(r.type) ?? 'Exact', str(r.value) ?? ''])
  }
  return [...seen.values()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

export interface Listener {
  name: string
  port: number | undefined
  protocol: string
  hostname: string | undefined
  allowedFrom: string
  /** `allowedRoutes.namespaces.selector`; undefined when absent (`from: Selector` then selects no namespace) */
  allowedSelector: Record<string, unknown> | undefined
  /** route kinds (Gateway API group) the listener takes: `listenerKinds(raw).supported` */
  kinds: readonly string[]
}

export const listeners: Facts<Listener[]> = factsOf(computeListeners)

function computeListeners(gateway: K8sObject): Listener[] {
  return arr(rec(gateway.spec).listeners).map((raw) => {
    const l = rec(raw)
    const ns = rec(rec(l.allowedRoutes).namespaces)
    const selector = ns.selector
    return {
      name: str(l.name) ?? '',
      port: num(l.port),
      protocol: str(l.protocol) ?? '',
      hostname: str(l.hostname),
      allowedFrom: str(ns.from) ?? 'Same',
      allowedSelector: selector !== null && typeof selector === 'object' && !Array.isArray(selector) ? (selector as Record<string, unknown>) : undefined,
      kinds: listenerKinds(l).supported,
    }
  })
}

/**
 * Does a ReferenceGrant in `targetNs` let a `fromKind` (Gateway API group) in `fromNs` reference
 * the core `toKind` named `name`? (GEP-709: a `to` entry without a name grants every object of
 * the kind.) `grantsIn` gives the ReferenceGrants of a namespace (the view's index).
 */
export function referenceGranted(
  grantsIn: (namespace: string) => Iterable<K8sObject>,
  targetNs: string,
  fromKind: string,
  fromNs: string,
  toKind: string,
  name: string,
): boolean {
  for (const g of grantsIn(targetNs)) {
    const spec = rec(g.spec)
    const fromOk = arr(spec.from).some((f) => str(rec(f).group) === GATEWAY_GROUP && str(rec(f).kind) === fromKind && str(rec(f).namespace) === fromNs)
    const toOk = arr(spec.to).some((t) => (str(rec(t).group) ?? '') === '' && str(rec(t).kind) === toKind && (str(rec(t).name) === undefined || str(rec(t).name) === name))
    if (fromOk && toOk) return true
  }
  return false
}

/** A requested Gateway address (`spec.addresses[]`): type (`IPAddress` when absent) and value. */
export interface GatewayAddress {
  index: number
  type: string
  value: string
}

/** `spec.addresses` of a Gateway, de-duplicated, at most 16 (the CRD's maxItems); entries without a value are left out. */
export function gatewayAddresses(gateway: K8sObject): GatewayAddress[] {
  const out: GatewayAddress[] = []
  const seen = new Set<string>()
  const raw = arr(rec(gateway.spec).addresses)
  for (let index = 0; index < raw.length && out.length < 16; index++) {
    const a = rec(raw[index])
    const value = str(a.value)
    if (!value) continue
    const type = str(a.type) ?? 'IPAddress'
    const key = `${type}\0${value}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ index, type, value })
  }
  return out
}

/**
 * Route kinds (group gateway.networking.k8s.io) a listener's protocol can carry (Gateway API
 * `ListenerStatus.supportedKinds`, conformance TLSRouteListenerPassthroughSupportedKinds):
 * HTTP and HTTPS: HTTPRoute, GRPCRoute; TLS: TLSRoute, and TCPRoute only when it terminates TLS
 * (`tls.mode: Terminate`; Passthrough, the default, hands the raw stream to a TLSRoute); TCP:
 * TCPRoute; UDP: UDPRoute; anything else: none.
 */
export function protocolKinds(listener: Record<string, unknown>): readonly string[] {
  switch (str(listener.protocol)) {
    case 'HTTP':
    case 'HTTPS':
      return HTTP_KINDS
    case 'TLS':
      return str(rec(listener.tls).mode) === 'Terminate' ? TLS_TERMINATE_KINDS : TLS_KINDS
    case 'TCP':
      return TCP_KINDS
    case 'UDP':
      return UDP_KINDS
    default:
      return NO_KINDS
  }
}

const HTTP_KINDS: readonly string[] = ['HTTPRoute', 'GRPCRoute']
const TLS_KINDS: readonly string[] = ['TLSRoute']
const TLS_TERMINATE_KINDS: readonly string[] = ['TLSRoute', 'TCPRoute']
const TCP_KINDS: readonly string[] = ['TCPRoute']
const UDP_KINDS: readonly string[] = ['UDPRoute']
const NO_KINDS: readonly string[] = []

/**
 * The route kinds a listener takes, and the `allowedRoutes.kinds` entries it cannot (Gateway API
 * `AllowedRoutes.kinds`: "Invalid kinds → ResolvedRefs False/InvalidRouteKinds; the listener
 * accepts the valid ones"). Without kinds, the protocol's (`protocolKinds`); with kinds, the
 * entries whose group is gateway.networking.k8s.io (the default) and whose kind the protocol
 * carries: an entry of another group (`{group: foo.io, kind: HTTPRoute}`) allows no standard
 * route. The one answer attachment (`attachment`) and listener status (status/gateway-status.ts)
 * both read.
 */
export function listenerKinds(listener: Record<string, unknown>): { supported: readonly string[]; invalid: { index: number; group: string; kind: string }[] } {
  const carried = protocolKinds(listener)
  const raw = arr(rec(listener.allowedRoutes).kinds)
  if (raw.length === 0) return { supported: carried, invalid: [] }
  const supported: string[] = []
  const invalid: { index: number; group: string; kind: string }[] = []
  raw.forEach((k, index) => {
    const kind = str(rec(k).kind) ?? ''
    const group = str(rec(k).group) ?? GATEWAY_GROUP
    if (group === GATEWAY_GROUP && carried.includes(kind)) {
      if (!supported.includes(kind)) supported.push(kind)
    } else invalid.push({ index, group, kind })
  })
  return { supported, invalid }
}

/**
 * Gateway API attachment of one parentRef, stage by stage, so that callers can both use the
 * attached listeners and say why none attached (the route status reason):
 * - `selected`: listeners the parentRef names (sectionName and port both must match when set);
 *   none → NoMatchingParent;
 * - `kindAllowed`: of those, listeners whose allowedRoutes.kinds (or the protocol's kinds) include
 *   the route kind (`listenerKinds`: group and protocol count); `attached`: of those, listeners
 *   whose allowedRoutes.namespaces (Same, All, Selector against the namespace's labels; Selector
 *   without a selector admits none) admit the route; none → NotAllowedByListeners.
 * `namespaces.namespaceLabels` returning undefined (namespace unknown) admits for `from: Selector`.
 */
export interface Attachment {
  selected: Listener[]
  kindAllowed: Listener[]
  attached: Listener[]
}

/** Where attachment reads a namespace's labels (a View is one). */
export interface NamespaceLabels {
  namespaceLabels(namespace: string): Record<string, string> | undefined
}

/**
 * Attachment of a route of `routeKind` (`HTTPRoute`, …) in `routeNamespace` to `gateway` through
 * `ref`, stage by stage (see `Attachment`). Reads the Gateway's listeners and, for `from:
 * Selector`, the namespace's labels. Never throws.
 */
export function attachment(gateway: K8sObject, ref: ParentRef, routeKind: string, routeNamespace: string, namespaces: NamespaceLabels): Attachment {
  const all = listeners(gateway)
  const selected: Listener[] = []
  const kindAllowed: Listener[] = []
  const attached: Listener[] = []
  for (const l of all) {
    if ((ref.sectionName !== undefined && l.name !== ref.sectionName) || (ref.port !== undefined && l.port !== ref.port)) continue
    selected.push(l)
    if (!l.kinds.includes(routeKind)) continue
    kindAllowed.push(l)
    if (admitsNamespace(l, gateway, routeNamespace, namespaces)) attached.push(l)
  }
  return { selected, kindAllowed, attached }
}

function admitsNamespace(l: Listener, gateway: K8sObject, routeNamespace: string, namespaces: NamespaceLabels): boolean {
  if (l.allowedFrom === 'Same') return routeNamespace === nsOf(gateway)
  if (l.allowedFrom === 'Selector') {
    // `from: Selector` without a selector selects no namespace (an empty selector `{}` selects all)
    if (l.allowedSelector === undefined) return false
    const labels = namespaces.namespaceLabels(routeNamespace)
    return labels === undefined || labelSelectorMatches(l.allowedSelector, labels)
  }
  return l.allowedFrom === 'All'
}

/** metav1.LabelSelector (matchLabels and matchExpressions) against a label set. */
export function labelSelectorMatches(selector: Record<string, unknown>, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(rec(selector.matchLabels))) if (labels[k] !== v) return false
  for (const e of arr(selector.matchExpressions)) {
    const x = rec(e)
    const key = str(x.key) ?? ''
    const values = strs(x.values)
    const has = Object.prototype.hasOwnProperty.call(labels, key)
    switch (str(x.operator)) {
      case 'In':
        if (!has || !values.includes(labels[key]!)) return false
        break
      case 'NotIn':
        if (has && values.includes(labels[key]!)) return false
        break
      case 'Exists':
        if (!has) return false
        break
      case 'DoesNotExist':
        if (has) return false
        break
      default:
        return false
    }
  }
  return true
}

/**
 * Effective hostnames of a route on a listener (Gateway API hostname intersection): the route's
 * hostnames that intersect the listener's, each narrowed to the more specific of the pair; a
 * route without hostnames takes the listener's; `*` stands for "any host" (neither sets one).
 */
export function effectiveHostnames(routeHostnames: string[], listenerHostname: string | undefined): string[] {
  if (routeHostnames.length === 0) return [listenerHostname ?? '*']
  if (listenerHostname === undefined) return routeHostnames
  return routeHostnames.filter((h) => hostsMatch(h, listenerHostname)).map((h) => moreSpecific(h, listenerHostname))
}

/** The port numbers a Service exposes (`spec.ports[].port`): what a backendRef's `port` must name. */
export function servicePorts(service: K8sObject): number[] {
  return arr(rec(service.spec).ports).flatMap((p) => (num(rec(p).port) !== undefined ? [num(rec(p).port)!] : []))
}

/** The `name` of the Service port whose `port` is `port` (a BackendTLSPolicy targetRef's sectionName names it), when it has one. */
export function servicePortName(service: K8sObject, port: number | null): string | undefined {
  if (port === null) return undefined
  for (const p of arr(rec(service.spec).ports)) if (num(rec(p).port) === port) return str(rec(p).name)
  return undefined
}

const REDIRECT_SCHEMES = new Set(['http', 'https'])
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308])
const PATH_MODIFIERS = new Set(['ReplaceFullPath', 'ReplacePrefixMatch'])

/**
 * A value of an HTTPRoute filter that the Gateway API (v1.6.1) does not define: a RequestRedirect
 * scheme other than http/https, a status code other than 301/302/303/307/308, a path modifier type
 * other than ReplaceFullPath/ReplacePrefixMatch (also URLRewrite's). Read offline a CRD would not
 * have refused it; a controller sets Accepted=False/UnsupportedValue and answers 500.
 * @returns `[field path under the filter, value]`, or undefined when every value is known
 */
export function unsupportedFilterValue(filter: unknown): [string, string] | undefined {
  const f = rec(filter)
  if (str(f.type) === 'RequestRedirect') {
    const r = rec(f.requestRedirect)
    const scheme = str(r.scheme)
    if (scheme !== undefined && !REDIRECT_SCHEMES.has(scheme)) return ['requestRedirect.scheme', scheme]
    const code = num(r.statusCode)
    if (code !== undefined && !REDIRECT_STATUS.has(code)) return ['requestRedirect.statusCode', String(code)]
    const pt = str(rec(r.path).type)
    if (pt !== undefined && !PATH_MODIFIERS.has(pt)) return ['requestRedirect.path.type', pt]
  }
  if (str(f.type) === 'URLRewrite') {
    const pt = str(rec(rec(f.urlRewrite).path).type)
    if (pt !== undefined && !PATH_MODIFIERS.has(pt)) return ['urlRewrite.path.type', pt]
  }
  return undefined
}
