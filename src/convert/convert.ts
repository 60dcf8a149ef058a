/**
 * `routeguard convert`: Istio VirtualService (+ DestinationRule, Istio Gateway) → Gateway API
 * HTTPRoute / TCPRoute / TLSRoute (+ Gateway, + per-subset Services). Nothing is dropped
 * silently: every feature that has no standard equivalent, or is approximated, is returned as a
 * gap (reported as RG0302 with its path). Weights are kept as written; a missing weight is never
 * written as 0. Mesh VirtualServices get Service parentRefs (GAMMA), gateway ones Gateway
 * parentRefs. Sources: Gateway API v1.6.1 HTTPRoute, ingress2gateway's Istio provider (what it
 * gets wrong), the research table "VirtualService feature → Gateway API".
 */
import { fullMatch } from '../routing/regex.js'
import { arr, describeRef, type K8sObject, KIND, kindKeyOf, nameOf, nsOf, num, rec, refOf, str, stringMap, strs } from '../model/object.js'
import { hostsMatch, serviceOfFQDN } from '../model/hosts.js'
import { exportScopes, gatewayRef, MESH_GATEWAY } from '../model/istio.js'
import { resolveSubsetBackend } from '../subsets/subsets.js'
import { ClusterView } from '../view/view.js'
import { outputView, routingDifferences, withAssumedGateways } from './equivalence.js'
import { GATEWAY_FIELDS, unreported, VIRTUAL_SERVICE_FIELDS } from './fields.js'
import { type Gap, vsGaps } from './gaps.js'

export interface ConvertGap extends Gap {
  resource: string
}

export interface ConvertResult {
  objects: K8sObject[]
  gaps: ConvertGap[]
}

const GW = 'gateway.networking.k8s.io'
/** RequestRedirect status codes each release's HTTPRoute CRD allows (v1.5 added 303, 307, 308). */
export const GATEWAY_API_REDIRECT_CODES: Record<string, readonly number[]> = {
  'v1.4.1': [301, 302],
  'v1.6.1': [301, 302, 303, 307, 308],
}

/** The version of TCPRoute and TLSRoute to write; null: the target does not serve that kind. */
export type RouteVersions = Record<'TCPRoute' | 'TLSRoute', string | null>

/**
 * What the Gateway API releases routeguard knows serve (standard channel; v1.4 has both kinds in
 * the experimental channel only, at v1alpha2). The newest is the default target.
 */
export const GATEWAY_API_RELEASES: Record<string, RouteVersions> = {
  'v1.4.1': { TCPRoute: 'v1alpha2', TLSRoute: 'v1alpha2' },
  'v1.6.1': { TCPRoute: 'v1', TLSRoute: 'v1' },
}
export const DEFAULT_GATEWAY_API_RELEASE = 'v1.6.1'

const VERSION_PREFERENCE = ['v1', 'v1beta1', 'v1alpha3', 'v1alpha2']

/**
 * Route versions from CustomResourceDefinitions (a folder's, or a cluster's): for TCPRoute and
 * TLSRoute the most stable served version, null when no CRD serves the kind.
 */
export function routeVersionsFromCrds(crds: K8sObject[]): RouteVersions {
  const out: RouteVersions = { TCPRoute: null, TLSRoute: null }
  for (const crd of crds) {
    const spec = rec(crd.spec)
    const kind = str(rec(spec.names).kind)
    if (str(spec.group) !== GW || (kind !== 'TCPRoute' && kind !== 'TLSRoute')) continue
    const served = arr(spec.versions).map(rec).filter((v) => v.served === true).map((v) => str(v.name) ?? '')
    out[kind] = VERSION_PREFERENCE.find((v) => served.includes(v)) ?? served[0] ?? null
  }
  return out
}

/**
 * The schema node at `path` (property names; `[]` for array items) under `spec` of the target's
 * HTTPRoute CRD, in its most stable served version; undefined when `crds` hold no HTTPRoute CRD.
 */
function httpRouteSchemaAt(crds: K8sObject[], ...path: string[]): Record<string, unknown> | undefined {
  for (const crd of crds) {
    const spec = rec(crd.spec)
    if (str(spec.group) !== GW || str(rec(spec.names).kind) !== 'HTTPRoute') continue
    const versions = arr(spec.versions).map(rec).filter((v) => v.served === true)
    const version = VERSION_PREFERENCE.map((name) => versions.find((v) => str(v.name) === name)).find(Boolean) ?? versions[0]
    return ['spec', ...path].reduce((x, k) => (k === '[]' ? rec(x.items) : rec(rec(x.properties)[k])), rec(rec(version?.schema).openAPIV3Schema))
  }
  return undefined
}

/**
 * The RequestRedirect status codes the target's HTTPRoute CRD allows (the enum of
 * `spec.rules[].filters[].requestRedirect.statusCode`), or undefined when no HTTPRoute CRD is
 * among `crds` or it sets no enum.
 */
export function redirectCodesFromCrds(crds: K8sObject[]): number[] | undefined {
  const codes = arr(httpRouteSchemaAt(crds, 'rules', '[]', 'filters', '[]', 'requestRedirect', 'statusCode')?.enum).filter((c): c is number => typeof c === 'number')
  return codes.length ? codes : undefined
}

/** Whether each release's HTTPRoute has the CORS filter (added in v1.5). */
export const GATEWAY_API_CORS: Record<string, boolean> = { 'v1.4.1': false, 'v1.6.1': true }

/** Whether the target's HTTPRoute CRD has the CORS filter; undefined without an HTTPRoute CRD. */
export function corsFromCrds(crds: K8sObject[]): boolean | undefined {
  const filter = httpRouteSchemaAt(crds, 'rules', '[]', 'filters', '[]')
  return filter === undefined ? undefined : rec(filter.properties).cors !== undefined
}

/** Gateway API HTTPHeaderName: an RFC 7230 token. */
const HEADER_NAME = "[A-Za-z0-9!#$%&'*+\\-.^_`|~]+"

const CORS_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', '*'])
/** Gateway API CORSOrigin (the CRD's pattern): `*`, or scheme://host[:port] with an optional `*.` first label. */
const CORS_ORIGIN = String.raw`(^\*$)|(^(http(s)?):\/\/(((\*\.)?([a-zA-Z0-9\-]+\.)*[a-zA-Z0-9-]+|\*)(:([0-9]{1,5}))?)$)`

/**
 * Istio `corsPolicy` as the Gateway API CORS filter (HTTPCORSFilter, v1.5+): exact origins (and the
 * deprecated `allowOrigin` strings) the CORSOrigin pattern accepts, methods the enum has, headers,
 * `maxAge` in whole seconds (at least 1), `allowCredentials`. A prefix or regex origin, an origin
 * or method the filter cannot hold, and `unmatchedPreflights` are gaps. Undefined when nothing is left.
 */
function corsFilter(policy: Record<string, unknown>, at: string, ctx: Ctx): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {}
  const origins: string[] = []
  const origin = (value: string, path: string) => {
    if (value.length <= 253 && fullMatch(CORS_ORIGIN, value)) origins.push(value)
    else ctx.gaps.push({ feature: 'corsPolicy.allowOrigins', path, detail: `${value} is not an origin the Gateway API CORS filter accepts (*, or scheme://host[:port]); dropped`, resource: ctx.res })
  }
  strs(policy.allowOrigin).forEach((o, i) => origin(o, `${at}.allowOrigin[${i}]`))
  arr(policy.allowOrigins).forEach((o, i) => {
    const sm = rec(o)
    if (str(sm.exact) !== undefined) origin(str(sm.exact)!, `${at}.allowOrigins[${i}].exact`)
    else ctx.gaps.push({ feature: 'corsPolicy.allowOrigins', path: `${at}.allowOrigins[${i}]`, detail: 'a prefix or regex origin has no Gateway API form (exact origins, or a *. first label); dropped', resource: ctx.res })
  })
  if (origins.length) out.allowOrigins = [...new Set(origins.includes('*') ? ['*'] : origins)]
  const methods = strs(policy.allowMethods).map((m) => m.toUpperCase())
  const kept = methods.filter((m) => CORS_METHODS.has(m))
  if (kept.length !== methods.length) ctx.gaps.push({ feature: 'corsPolicy.allowMethods', path: `${at}.allowMethods`, detail: `${methods.filter((m) => !CORS_METHODS.has(m)).join(', ')}: not a method the CORS filter names; dropped`, resource: ctx.res })
  if (kept.length) out.allowMethods = [...new Set(kept.includes('*') ? ['*'] : kept)]
  for (const field of ['allowHeaders', 'exposeHeaders'] as const) {
    const list = [...new Set(strs(policy[field]))]
    if (list.length) out[field] = list.includes('*') ? ['*'] : list
  }
  if (typeof policy.allowCredentials === 'boolean') out.allowCredentials = policy.allowCredentials
  const maxAge = str(policy.maxAge)
  if (maxAge !== undefined) {
    const ms = durationMs(maxAge)
    if (ms === undefined) ctx.gaps.push({ feature: 'corsPolicy.maxAge', path: `${at}.maxAge`, detail: `${maxAge} is not a duration; dropped`, resource: ctx.res })
    else {
      const seconds = Math.max(1, Math.round(ms / 1000))
      if (seconds * 1000 !== ms) ctx.gaps.push({ feature: 'corsPolicy.maxAge', path: `${at}.maxAge`, detail: `${maxAge} written as ${seconds}s (the CORS filter counts whole seconds, at least 1)`, resource: ctx.res })
      out.maxAge = seconds
    }
  }
  if (policy.unmatchedPreflights !== undefined) ctx.gaps.push({ feature: 'corsPolicy.unmatchedPreflights', path: `${at}.unmatchedPreflights`, detail: 'the CORS filter has no setting for preflights from origins it does not allow; dropped', resource: ctx.res })
  return Object.keys(out).length ? out : undefined
}

/**
 * The allowed code nearest to Istio's `redirectCode`: the code itself when allowed, else the one
 * of the same kind (permanent 301/308, temporary 302/303/307) the target allows, preferring the
 * one that keeps the method as Istio's does (308 → 301 loses it; 307 → 302 too). Undefined for a
 * code that is no HTTP redirect, or when the target allows none of its kind.
 */
export function nearestRedirectCode(code: number, allowed: readonly number[]): number | undefined {
  if (allowed.includes(code)) return code
  if (![301, 302, 303, 307, 308].includes(code)) return undefined
  const permanent = code === 301 || code === 308
  const order = permanent ? [308, 301] : [307, 302, 303]
  return order.find((c) => allowed.includes(c))
}

/** What the target Gateway API serves that `convert` writes for: one release's, or its CRDs'. */
export interface GatewayApiTarget {
  /** versions of TCPRoute/TLSRoute to write; null: the target does not serve that kind */
  routeVersions: RouteVersions
  /** RequestRedirect status codes the target allows */
  redirectCodes: readonly number[]
  /** the target serves the HTTPRoute CORS filter */
  cors: boolean
}

/** The target of a release routeguard knows (`v1.4.1`, `v1.6.1`). @throws Error for another release */
export function releaseTarget(release: string): GatewayApiTarget {
  const routeVersions = GATEWAY_API_RELEASES[release]
  if (!routeVersions) throw new Error(`unknown Gateway API release ${release} (known: ${Object.keys(GATEWAY_API_RELEASES).join(', ')})`)
  return { routeVersions, redirectCodes: GATEWAY_API_REDIRECT_CODES[release]!, cors: GATEWAY_API_CORS[release]! }
}

/**
 * The target the CRDs describe (a `--crds` folder's, or a cluster's): route versions from them,
 * and the redirect codes and CORS filter from their HTTPRoute CRD, `fallback`'s where it says none.
 */
export function targetFromCrds(crds: K8sObject[], fallback: GatewayApiTarget): GatewayApiTarget {
  return { routeVersions: routeVersionsFromCrds(crds), redirectCodes: redirectCodesFromCrds(crds) ?? fallback.redirectCodes, cors: corsFromCrds(crds) ?? fallback.cors }
}

/** The target (default: the newest release routeguard knows), field by field, and the routing check. */
export interface ConvertOptions extends Partial<GatewayApiTarget> {
  /** trace each VirtualService's request classes before and after (./equivalence.ts); default true */
  checkRouting?: boolean
}

/**
 * A Service backendRef without a port is refused by the Gateway API CRDs ("Must have port for
 * Service reference"), and writing the route without that backend would send its share elsewhere:
 * such a route is not written (removed from `objects`), and a gap names each backend and how to
 * give it a port.
 */
function holdBackPortless(objects: K8sObject[], gaps: ConvertGap[]): void {
  for (let i = objects.length - 1; i >= 0; i--) {
    const o = objects[i]!
    if (!String(o.apiVersion).startsWith(`${GW}/`) || !String(o.kind).endsWith('Route')) continue
    const ns = nsOf(o)
    const missing: string[] = []
    arr(rec(o.spec).rules).forEach((rule, r) => {
      const refs = [...arr(rec(rule).backendRefs).map((b, j) => [rec(b), `rules[${r}].backendRefs[${j}]`] as const), ...arr(rec(rule).filters).flatMap((f, j) => (rec(f).type === 'RequestMirror' ? [[rec(rec(rec(f).requestMirror).backendRef), `rules[${r}].filters[${j}]`] as const] : []))]
      for (const [b, at] of refs) if ((str(b.kind) ?? 'Service') === 'Service' && !str(b.group) && num(b.port) === undefined) missing.push(`${at} ${str(b.namespace) ?? ns}/${str(b.name)}`)
    })
    if (!missing.length) continue
    objects.splice(i, 1)
    gaps.push({ feature: 'destination port', path: 'spec', detail: `${String(o.kind)} ${ns}/${nameOf(o)} not written: ${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} no port, which the Gateway API requires for a Service; set destination.port.number, or include the Service in the input (a Service with one port gives it)`, resource: `VirtualService ${ns}/${nameOf(o)}` })
  }
}

/**
 * Routes written under a name the input already uses for that kind (an HTTPRoute `shop/web` beside
 * the VirtualService `shop/web`) would replace it when applied, silently. Each such route gets the
 * first free name of `<name>-converted`, `<name>-converted-2`, … and a gap says so.
 */
function freeRouteNames(objects: K8sObject[], view: ClusterView, gaps: ConvertGap[]): void {
  const taken = new Set<string>()
  const key = (kind: string, ns: string, name: string) => `${kind}|${ns}|${name}`
  for (const o of objects) {
    if (!String(o.apiVersion).startsWith(`${GW}/`) || !String(o.kind).endsWith('Route')) continue
    const kind = String(o.kind)
    const ns = nsOf(o)
    const name = nameOf(o)
    const used = (n: string) => taken.has(key(kind, ns, n)) || view.get(`${GW}/${kind}`, ns, n) !== undefined
    if (used(name)) {
      let next = `${name}-converted`
      for (let k = 2; used(next); k++) next = `${name}-converted-${k}`
      o.metadata = { ...o.metadata, name: next }
      gaps.push({ feature: 'name', path: 'metadata.name', detail: `${kind} ${ns}/${name} exists in the input; written as ${ns}/${next} so that applying it replaces nothing (rename it, and delete the old route, when the new one is in place)`, resource: `VirtualService ${ns}/${name}` })
    }
    taken.add(key(kind, ns, nameOf(o)))
  }
}

/** Converts every VirtualService and Istio Gateway among `inputs`; other inputs are context (Services, DestinationRules). */
export function convert(inputs: K8sObject[], opts: ConvertOptions = {}): ConvertResult {
  const base = releaseTarget(DEFAULT_GATEWAY_API_RELEASE)
  const target: GatewayApiTarget = { routeVersions: opts.routeVersions ?? base.routeVersions, redirectCodes: opts.redirectCodes ?? base.redirectCodes, cors: opts.cors ?? base.cors }
  const view = new ClusterView()
  for (const o of inputs) view.upsert(o)
  const objects: K8sObject[] = []
  const gaps: ConvertGap[] = []
  const services = new Map<string, K8sObject>()
  const delegates = delegateTargets(view)
  for (const o of view.all()) {
    const kind = kindKeyOf(o)
    if (kind === KIND.IstioGateway) objects.push(...convertGateway(o, gaps, view))
    if (kind === KIND.VirtualService) {
      const res = describeRef(refOf(o))
      // a delegate has no route of its own: its rules are written in its roots' routes
      if (strs(rec(o.spec).hosts).length === 0 && delegates.has(`${nsOf(o)}/${nameOf(o)}`)) continue
      for (const g of vsGaps(o)) gaps.push({ ...g, resource: res })
      objects.push(...convertVirtualService(o, view, gaps, services, target))
    }
  }
  holdBackPortless(objects, gaps)
  freeRouteNames(objects, view, gaps)
  objects.push(...referenceGrants(objects.filter((o) => String(o.apiVersion).startsWith(`${GW}/`) && String(o.kind).endsWith('Route'))))
  objects.push(...services.values())
  // nothing dropped silently: each field the table calls dropped (or does not know) gets a line
  for (const o of view.all()) {
    const table = kindKeyOf(o) === KIND.VirtualService ? VIRTUAL_SERVICE_FIELDS : kindKeyOf(o) === KIND.IstioGateway ? GATEWAY_FIELDS : undefined
    if (!table) continue
    const res = describeRef(refOf(o))
    for (const g of unreported(o, table, gaps.filter((x) => x.resource === res))) gaps.push({ ...g, resource: res })
  }
  if (opts.checkRouting !== false) {
    // the Gateways bound VirtualServices name but the input lacks are assumed once, for all of them
    const views = withAssumedGateways(view, outputView(objects, view.all()))
    for (const o of view.all()) {
      if (kindKeyOf(o) !== KIND.VirtualService) continue
      for (const g of routingDifferences(o, views.input, views.output)) gaps.push({ ...g, resource: describeRef(refOf(o)) })
    }
  }
  return { objects, gaps }
}

/** Istio server protocols carried as plain TCP by Istio (Envoy's tcp_proxy): a TCP listener. */
const TCP_LIKE = new Set(['TCP', 'MONGO', 'MYSQL', 'REDIS'])

/**
 * An Istio Gateway as a Gateway API Gateway, one listener per (port, protocol, hostname):
 * - `tls.mode` defaults to PASSTHROUGH, as Istio's ServerTLSSettings does; HTTPS (or TLS) with
 *   PASSTHROUGH / AUTO_PASSTHROUGH is a `TLS` listener in Passthrough mode (an HTTPS listener
 *   cannot pass through); SIMPLE and MUTUAL terminate with the `credentialName` Secret, and a
 *   terminating server without one is reported once and not written (the CRD requires
 *   certificateRefs);
 * - MONGO (and the other TCP protocols) is a `TCP` listener; TCP listeners carry no hostname;
 * - server hosts `ns/host`: `*` → `from: All`, only the Gateway's namespace (`.`) → `from: Same`,
 *   else `from: Selector` on `kubernetes.io/metadata.name`; hosts of one server that give the
 *   same listener are merged (their namespaces joined).
 */
function convertGateway(gw: K8sObject, gaps: ConvertGap[], view: ClusterView): K8sObject[] {
  const res = describeRef(refOf(gw))
  const gwNs = nsOf(gw)
  const secretNs = credentialNamespace(gw, view, gaps)
  const secrets = new Set<string>()
  const byKey = new Map<string, { listener: Record<string, unknown>; namespaces: Set<string> }>()
  arr(rec(gw.spec).servers).forEach((raw, i) => {
    const s = rec(raw)
    const port = num(rec(s.port).number)
    const declared = (str(rec(s.port).protocol) ?? 'HTTP').toUpperCase()
    const tls = rec(s.tls)
    const hasTls = s.tls !== undefined
    const mode = hasTls ? (str(tls.mode) ?? 'PASSTHROUGH') : undefined
    let protocol = declared
    if (protocol === 'HTTP2' || protocol === 'GRPC' || protocol === 'GRPC-WEB') protocol = hasTls ? 'HTTPS' : 'HTTP'
    if (TCP_LIKE.has(protocol)) protocol = 'TCP'
    const passthrough = mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH'
    if ((protocol === 'HTTPS' || protocol === 'TLS') && passthrough) protocol = 'TLS'
    if (!['HTTP', 'HTTPS', 'TLS', 'TCP'].includes(protocol) || port === undefined) {
      gaps.push({ feature: 'server.protocol', path: `spec.servers[${i}].port`, detail: `protocol ${declared} / port ${port} has no listener equivalent; server dropped`, resource: res })
      return
    }
    if (mode === 'ISTIO_MUTUAL' || mode === 'OPTIONAL_MUTUAL') {
      gaps.push({ feature: 'tls.mode', path: `spec.servers[${i}].tls.mode`, detail: `${mode} has no Gateway API equivalent; server dropped`, resource: res })
      return
    }
    if (mode === 'AUTO_PASSTHROUGH') gaps.push({ feature: 'tls.mode', path: `spec.servers[${i}].tls.mode`, detail: 'AUTO_PASSTHROUGH (SNI-derived destinations, multi-network) becomes plain Passthrough: routes must be written', resource: res })
    if (mode === 'MUTUAL') gaps.push({ feature: 'tls.mode', path: `spec.servers[${i}].tls.mode`, detail: 'MUTUAL needs frontend client-certificate validation (Extended; Istio reports it unsupported); converted as Terminate', resource: res })
    if (tls.httpsRedirect) gaps.push({ feature: 'tls.httpsRedirect', path: `spec.servers[${i}].tls.httpsRedirect`, detail: 'needs an HTTP listener plus a redirect route; dropped', resource: res })
    const terminate = protocol === 'HTTPS' || (protocol === 'TLS' && !passthrough)
    const cred = str(tls.credentialName)
    if (terminate && !cred) {
      const what = str(tls.serverCertificate) ? 'serverCertificate/privateKey files' : 'no certificate'
      gaps.push({ feature: 'tls certificate', path: `spec.servers[${i}].tls`, detail: `a terminating listener needs certificateRefs to a Secret; the server has ${what}: give it a credentialName (the Secret) and convert again; server dropped`, resource: res })
      return
    }
    strs(s.hosts).forEach((h) => {
      const slash = h.indexOf('/')
      const ns = slash < 0 ? '*' : h.slice(0, slash) === '.' ? gwNs : h.slice(0, slash)
      const host = slash < 0 ? h : h.slice(slash + 1)
      const hostname = protocol === 'TCP' || host === '*' ? undefined : host
      const key = `${port}\0${protocol}\0${hostname ?? ''}`
      let slot = byKey.get(key)
      if (!slot) {
        const listener: Record<string, unknown> = { name: `${protocol.toLowerCase()}-${port}-${byKey.size}`, port, protocol }
        if (hostname) listener.hostname = hostname
        if (protocol === 'TLS' && passthrough) listener.tls = { mode: 'Passthrough' }
        else if (terminate) {
          listener.tls = { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: cred, ...(secretNs !== gwNs ? { namespace: secretNs } : {}) }] }
          secrets.add(cred!)
        }
        byKey.set(key, (slot = { listener, namespaces: new Set() }))
      }
      slot.namespaces.add(ns)
    })
  })
  const listeners = [...byKey.values()].map(({ listener, namespaces }) => {
    const from = namespaces.has('*') ? { from: 'All' } : namespaces.size === 1 && namespaces.has(gwNs) ? { from: 'Same' } : { from: 'Selector', selector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [...namespaces].sort() }] } }
    return { ...listener, allowedRoutes: { namespaces: from } }
  })
  if (!listeners.length) {
    // nothing to listen on: no Gateway is written, and the routes bound to it attach nowhere
    gaps.push({ feature: 'servers', path: 'spec.servers', detail: `${arr(rec(gw.spec).servers).length ? 'no server could be converted to a listener' : 'the Gateway has no servers'}; no Gateway API Gateway written, so routes bound to it attach to nothing`, resource: res })
    return []
  }
  const gateway = { apiVersion: `${GW}/v1`, kind: 'Gateway', metadata: { name: nameOf(gw), namespace: gwNs }, spec: { gatewayClassName: 'istio', listeners } }
  if (secretNs === gwNs || !secrets.size) return [gateway]
  // the Secrets live with the gateway workload: the Gateway may read them there once granted (GEP-709)
  const grant = { apiVersion: `${GW}/v1beta1`, kind: 'ReferenceGrant', metadata: { name: `${gwNs}-gateway-${nameOf(gw)}-secrets`.slice(0, 253), namespace: secretNs }, spec: { from: [{ group: GW, kind: 'Gateway', namespace: gwNs }], to: [...secrets].sort().map((name) => ({ group: '', kind: 'Secret', name })) } }
  return [gateway, grant]
}

/**
 * The namespace Istio reads an Istio Gateway's `credentialName` Secrets from: that of the gateway
 * workload its selector selects (pilot's SDS for gateways reads the proxy's namespace), which is
 * often not the Gateway's (`bookinfo/bookinfo-gateway` on the `istio-system` ingress gateway).
 * Without a selected workload in the input, or with several namespaces, the Gateway's own
 * namespace is used and a gap says so.
 */
function credentialNamespace(gw: K8sObject, view: ClusterView, gaps: ConvertGap[]): string {
  const gwNs = nsOf(gw)
  const servers = arr(rec(gw.spec).servers)
  const firstCred = servers.findIndex((s) => str(rec(rec(s).tls).credentialName) !== undefined)
  if (firstCred < 0) return gwNs
  const selector = stringMap(rec(gw.spec).selector)
  const namespaces = [...new Set([...view.workloadsSelected(selector)].map((w) => w.namespace))].sort()
  const path = `spec.servers[${firstCred}].tls.credentialName`
  const res = describeRef(refOf(gw))
  if (namespaces.length === 1) return namespaces[0]!
  if (namespaces.length === 0) {
    gaps.push({ feature: 'tls.credentialName', path, detail: `Istio reads the Secret from the namespace of the gateway workload (selector ${JSON.stringify(selector)}), which is not in the input; certificateRefs written for ${gwNs}: include the gateway Deployment to point them where Istio reads, or check that the Secret is in ${gwNs}`, resource: res })
    return gwNs
  }
  const chosen = namespaces.includes(gwNs) ? gwNs : namespaces[0]!
  gaps.push({ feature: 'tls.credentialName', path, detail: `the selector picks gateway workloads in ${namespaces.join(', ')}, and Istio reads the Secret in each one's namespace; certificateRefs written for ${chosen} only`, resource: res })
  return chosen
}

/** An Istio (protobuf JSON) duration (`1h30m`, `1.5s`, `250ms`) in milliseconds; undefined when it is none. */
export function durationMs(istio: string): number | undefined {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 }
  const text = istio.trim()
  const re = /(\d+(?:\.\d+)?|\.\d+)(ms|us|µs|ns|h|m|s)/gy
  let total = 0
  let seen = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text))) {
    total += Number(m[1]) * units[m[2]!]!
    seen = re.lastIndex
  }
  return seen === 0 || seen !== text.length ? undefined : total
}

/**
 * An Istio duration (`0.5s`, `1m30s`, `250ms`, `1.5h`) as a Gateway API Duration (GEP-2257:
 * `^([0-9]{1,5}(h|m|s|ms)){1,4}$`): whole hours, minutes or seconds when exact, else milliseconds
 * (`0.5s` → `500ms`); sub-millisecond parts are rounded up to 1ms and said so in `note`; a value
 * that does not parse gives no `value`, only the `note`.
 */
export function gatewayDuration(istio: string): { value?: string; note?: string } {
  const total = durationMs(istio)
  if (total === undefined) return { note: `${istio} is not a duration; timeout not converted` }
  let ms = Math.ceil(total - 1e-9)
  let note: string | undefined
  if (ms !== total) note = `${istio} rounded up to ${ms}ms (Gateway API durations count whole milliseconds)`
  if (ms === 0) return { value: '0s', ...(note ? { note } : {}) }
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % size === 0 && ms / size <= 99_999) return { value: `${ms / size}${unit}`, ...(note ? { note } : {}) }
  // compound, largest units first, at most 5 digits each
  const parts: string[] = []
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    const n = Math.floor(ms / size)
    if (n > 0) parts.push(`${n}${unit}`)
    ms -= n * size
  }
  return { value: parts.join(''), ...(note ? { note } : {}) }
}

/**
 * Gateway API `Hostname` (RFC 1123 subdomain, an optional leading `*.` label, lower case), the
 * CRD's pattern, matched whole with RE2 (a host a tenant wrote never meets a backtracking engine;
 * one over 253 characters is no hostname anyway).
 */
const HOSTNAME = '(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'

/**
 * VirtualService hosts as HTTPRoute `hostnames`: `*` means the listener's (none written); upper
 * case is folded (hostnames compare case-insensitively); what the schema refuses (`*-api.example.com`,
 * `example*.com`, IP addresses, short names the Gateway resolves in Istio) is dropped; each change
 * is a gap.
 */
function routeHostnames(hosts: string[], ctx: Ctx, pathOf: (i: number) => string = (i) => `spec.hosts[${i}]`): string[] {
  const out: string[] = []
  hosts.forEach((h, i) => {
    if (h === '*') return
    const path = pathOf(i)
    let name = h
    if (name !== name.toLowerCase()) {
      name = name.toLowerCase()
      ctx.gaps.push({ feature: 'hosts', path, detail: `${h} folded to ${name} (Gateway API hostnames are lower case)`, resource: ctx.res })
    }
    const ip = /^[\d.]+$/.test(name) || name.includes(':')
    if (ip || name.length > 253 || !fullMatch(HOSTNAME, name) || !name.includes('.')) {
      const why = ip ? 'an IP address' : !name.includes('.') ? 'a short name (Istio expands it in the namespace; a hostname must be a DNS name)' : 'not a valid Gateway API hostname (a wildcard only as a whole first label)'
      ctx.gaps.push({ feature: 'hosts', path, detail: `${h} is ${why}; not written: the route matches every host of its listener unless you add one`, resource: ctx.res })
      return
    }
    if (!out.includes(name)) out.push(name)
  })
  return out
}

/**
 * ReferenceGrants for cross-namespace backendRefs (GEP-709): one per (backend namespace, route
 * kind, route namespace), in the backend's namespace, naming each Service.
 */
/**
 * `objects` with their ReferenceGrants made anew from the routes among them: after routes are held
 * back (`--crds` validation), no grant is left for a route that is not written.
 */
export function regrant(objects: K8sObject[]): K8sObject[] {
  // the grants routes need are made anew; a Gateway's grant for its Secrets stays
  const routeGrant = (o: K8sObject) => String(o.apiVersion).startsWith(`${GW}/`) && o.kind === 'ReferenceGrant' && arr(rec(o.spec).from).some((f) => String(rec(f).kind).endsWith('Route'))
  const kept = objects.filter((o) => !routeGrant(o))
  return [...kept, ...referenceGrants(kept.filter((o) => String(o.apiVersion).startsWith(`${GW}/`) && String(o.kind).endsWith('Route')))]
}

function referenceGrants(routes: K8sObject[]): K8sObject[] {
  const need = new Map<string, { ns: string; kind: string; from: string; names: Set<string> }>()
  for (const r of routes) {
    const from = nsOf(r)
    const refs = arr(rec(r.spec).rules).flatMap((rule) => [...arr(rec(rule).backendRefs), ...arr(rec(rule).filters).map((f) => rec(rec(f).requestMirror).backendRef).filter(Boolean)])
    for (const raw of refs) {
      const b = rec(raw)
      const ns = str(b.namespace)
      if (!ns || ns === from) continue
      const key = `${ns}\0${String(r.kind)}\0${from}`
      let slot = need.get(key)
      if (!slot) need.set(key, (slot = { ns, kind: String(r.kind), from, names: new Set() }))
      slot.names.add(str(b.name) ?? '')
    }
  }
  return [...need.values()].map((g) => ({
    apiVersion: `${GW}/v1beta1`,
    kind: 'ReferenceGrant',
    metadata: { name: `${g.from}-${g.kind.toLowerCase()}s`.slice(0, 253), namespace: g.ns },
    spec: { from: [{ group: GW, kind: g.kind, namespace: g.from }], to: [...g.names].sort().map((name) => ({ group: '', kind: 'Service', name })) },
  }))
}

interface Ctx {
  vs: K8sObject
  view: ClusterView
  gaps: ConvertGap[]
  services: Map<string, K8sObject>
  res: string
  target: GatewayApiTarget
}

function convertVirtualService(vs: K8sObject, view: ClusterView, gaps: ConvertGap[], services: Map<string, K8sObject>, target: GatewayApiTarget): K8sObject[] {
  const spec = rec(vs.spec)
  const ns = nsOf(vs)
  const versions = target.routeVersions
  const ctx: Ctx = { vs, view, gaps, services, res: describeRef(refOf(vs)), target }
  const gateways = strs(spec.gateways)
  const mesh = gateways.length === 0 || gateways.includes(MESH_GATEWAY)
  const parentRefs: Record<string, unknown>[] = []
  const scopes = exportScopes(strs(spec.exportTo), ns)
  gateways.forEach((g, i) => {
    if (g === MESH_GATEWAY) return
    const { namespace: gns, name: gname } = gatewayRef(g, ns)
    // pilot binds a VirtualService to a Gateway only when it is exported to the Gateway's namespace
    if (!scopes.includes('*') && !scopes.includes(gns)) {
      gaps.push({ feature: 'exportTo', path: `spec.gateways[${i}]`, detail: `exportTo ${scopes.join(',')} leaves out the Gateway's namespace ${gns}: Istio never binds it to ${gns}/${gname}, so no parentRef is written`, resource: ctx.res })
      return
    }
    parentRefs.push({ name: gname, ...(gns !== ns ? { namespace: gns } : {}) })
  })
  const hosts = strs(spec.hosts)
  if (mesh) {
    hosts.forEach((h, i) => {
      const svc = serviceHost(h, ns)
      if (svc) parentRefs.push({ group: '', kind: 'Service', name: svc.name, ...(svc.namespace !== ns ? { namespace: svc.namespace } : {}) })
      else gaps.push({ feature: 'mesh host', path: `spec.hosts[${i}]`, detail: `${h} is not a Kubernetes Service; no GAMMA parent for it`, resource: ctx.res })
    })
  }
  const hostnames = gateways.some((g) => g !== MESH_GATEWAY) ? routeHostnames(hosts, ctx) : []
  const out: K8sObject[] = []
  const grpc = grpcRules(arr(spec.http).map(rec), ctx)
  if (grpc) {
    out.push({ apiVersion: `${GW}/v1`, kind: 'GRPCRoute', metadata: { name: nameOf(vs), namespace: ns }, spec: { parentRefs, ...(hostnames.length ? { hostnames } : {}), rules: grpc } })
  }
  const rules = grpc ? [] : arr(spec.http).flatMap((r, i) => httpRules(rec(r), i, ctx))
  if (rules.length) {
    out.push({ apiVersion: `${GW}/v1`, kind: 'HTTPRoute', metadata: { name: nameOf(vs), namespace: ns }, spec: { parentRefs, ...(hostnames.length ? { hostnames } : {}), rules } })
  }
  const unserved = (kind: keyof RouteVersions, path: string) => {
    if (versions[kind]) return false
    gaps.push({ feature: kind, path, detail: `the target Gateway API does not serve ${kind} (its CRDs, or --gateway-api-version); not written`, resource: ctx.res })
    return true
  }
  // Istio binds a VirtualService's tcp routes to a Gateway's TCP servers whose hosts match its
  // hosts (pilot's gateway TCP route building); a TCP listener has no hostname, so a TCPRoute
  // would attach where Istio routes nothing: such parents are left out of the TCPRoutes
  const tcpParents = spec.tcp === undefined ? parentRefs : parentRefs.filter((p) => {
    if (p.kind === 'Service') return true
    const g = view.get(KIND.IstioGateway, str(p.namespace) ?? ns, str(p.name) ?? '')
    if (!g) return true
    const serverHosts = arr(rec(g.spec).servers).map(rec).filter((sv) => TCP_LIKE.has((str(rec(sv.port).protocol) ?? '').toUpperCase())).flatMap((sv) => strs(sv.hosts).map((h) => (h.includes('/') ? h.slice(h.indexOf('/') + 1) : h)))
    if (serverHosts.some((sh) => hosts.some((h) => hostsMatch(sh, h)))) return true
    gaps.push({ feature: 'tcp', path: 'spec.tcp', detail: `no TCP server of Gateway ${nsOf(g)}/${nameOf(g)} has a host of this VirtualService (${hosts.join(', ')}), so Istio routes none of its connections there; the TCPRoutes leave that parent out`, resource: ctx.res })
    return false
  })
  arr(spec.tcp).forEach((r, i) => {
    if (unserved('TCPRoute', `spec.tcp[${i}]`)) return
    if (!tcpParents.length) return
    const backendRefs = arr(rec(r).route).map((d, j) => backendRef(rec(d), `spec.tcp[${i}].route[${j}]`, ctx)).filter(Boolean)
    // match.port splits connections by port: parentRef.port (every match must name one, else the rule takes every port)
    const matches = arr(rec(r).match).map(rec)
    const ports = matches.length && matches.every((m) => num(m.port) !== undefined) ? [...new Set(matches.map((m) => num(m.port)!))] : []
    const refs = ports.length ? tcpParents.flatMap((p) => ports.map((port) => ({ ...p, port }))) : tcpParents
    out.push({ apiVersion: `${GW}/${versions.TCPRoute}`, kind: 'TCPRoute', metadata: { name: `${nameOf(vs)}-tcp-${i}`, namespace: ns }, spec: { parentRefs: refs, rules: [{ backendRefs }] } })
  })
  arr(spec.tls).forEach((r, i) => {
    if (unserved('TLSRoute', `spec.tls[${i}]`)) return
    // SNI hosts as hostnames, folded and checked as HTTP hosts are; `*` (any SNI) is no hostname:
    // v1alpha2 TLSRoutes may leave hostnames out (every SNI of the listener), v1 requires one
    const written = arr(rec(r).match).flatMap((m, j) => strs(rec(m).sniHosts).map((h, k) => [h, `spec.tls[${i}].match[${j}].sniHosts[${k}]`] as const))
    const sni = routeHostnames(written.map(([h]) => h), ctx, (k) => written[k]![1])
    const anySni = written.some(([h]) => h === '*')
    if (!sni.length && versions.TLSRoute === 'v1') {
      ctx.gaps.push({ feature: 'tls.match.sniHosts', path: `spec.tls[${i}].match`, detail: `${anySni ? 'any SNI (*)' : 'no SNI host the Gateway API accepts'}: a v1 TLSRoute needs at least one hostname; TLSRoute not written (list the SNI names, or target a release whose TLSRoute is v1alpha2)`, resource: ctx.res })
      return
    }
    const backendRefs = arr(rec(r).route).map((d, j) => backendRef(rec(d), `spec.tls[${i}].route[${j}]`, ctx)).filter(Boolean)
    out.push({ apiVersion: `${GW}/${versions.TLSRoute}`, kind: 'TLSRoute', metadata: { name: `${nameOf(vs)}-tls-${i}`, namespace: ns }, spec: { parentRefs, ...(sni.length ? { hostnames: sni } : {}), rules: [{ backendRefs }] } })
  })
  return out
}

/**
 * A VirtualService whose every HTTP route goes to gRPC Service ports (appProtocol `grpc`, or a
 * port name `grpc`/`grpc-*`), with only `/pkg.Service/[Method]` URI matches, plain destinations and
 * no filters, becomes a GRPCRoute (method matches); anything else stays an HTTPRoute.
 */
function grpcRules(http: Record<string, unknown>[], ctx: Ctx): Record<string, unknown>[] | undefined {
  if (!http.length) return undefined
  const rules: Record<string, unknown>[] = []
  for (const r of http) {
    const allowed = new Set(['match', 'route', 'name', 'timeout'])
    if (Object.keys(r).some((k) => !allowed.has(k))) return undefined
    const matches: Record<string, unknown>[] = []
    for (const m of arr(r.match)) {
      const mm = rec(m)
      if (Object.keys(mm).some((k) => k !== 'uri' && k !== 'name')) return undefined
      const uri = rec(mm.uri)
      const path = str(uri.prefix) ?? str(uri.exact)
      const parsed = path ? /^\/([\w.]+)\/(\w*)$/.exec(path) : null
      if (!parsed || (str(uri.prefix) !== undefined && parsed[2])) return undefined
      matches.push({ method: { type: 'Exact', service: parsed[1], ...(parsed[2] ? { method: parsed[2] } : {}) } })
    }
    const dests = arr(r.route).map(rec)
    if (!dests.length || !dests.every((d) => isGrpcDestination(rec(d.destination), ctx))) return undefined
    const backendRefs = dests.map((d, j) => backendRef(d, `spec.http[${rules.length}].route[${j}]`, ctx)).filter(Boolean)
    rules.push({ ...(matches.length ? { matches } : {}), backendRefs })
  }
  return rules
}

function isGrpcDestination(dest: Record<string, unknown>, ctx: Ctx): boolean {
  const svc = serviceHost(str(dest.host) ?? '', nsOf(ctx.vs))
  const service = svc && ctx.view.get(KIND.Service, svc.namespace, svc.name)
  if (!service) return false
  const wanted = num(rec(dest.port).number)
  const ports = arr(rec(service.spec).ports).map(rec).filter((p) => wanted === undefined || num(p.port) === wanted)
  return ports.length === 1 && (str(ports[0]!.appProtocol) === 'grpc' || /^grpc(-|$)/.test(str(ports[0]!.name) ?? ''))
}

function serviceHost(host: string, ns: string): { name: string; namespace: string } | undefined {
  if (!host.includes('.') && !host.startsWith('*')) return { name: host, namespace: ns }
  return serviceOfFQDN(host)
}

/**
 * A header or query StringMatch as a Gateway API match. Istio reads a StringMatch that sets no
 * match type (`{}`), and the regex `*`, as "present with any value" (pilot's header matcher:
 * present_match); the Gateway API has no presence type, and RegularExpression `.*` matches exactly
 * the requests that carry the header or parameter, with any value (an absent one never matches).
 */
function stringMatch(sm: Record<string, unknown>): { type: string; value: string } {
  if (str(sm.exact) !== undefined) return { type: 'Exact', value: str(sm.exact)! }
  if (str(sm.regex) !== undefined && str(sm.regex) !== '*') return { type: 'RegularExpression', value: str(sm.regex)! }
  if (str(sm.prefix) !== undefined) return { type: 'RegularExpression', value: `^${escapeRegex(str(sm.prefix)!)}.*` }
  return { type: 'RegularExpression', value: '.*' }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function httpRules(r: Record<string, unknown>, i: number, ctx: Ctx): Record<string, unknown>[] {
  const at = `spec.http[${i}]`
  if (r.directResponse !== undefined) return []
  if (r.delegate !== undefined) return delegateRules(r, i, ctx)
  const written = arr(r.match).map((m, j) => {
    const mm = rec(m)
    const mat = `${at}.match[${j}]`
    const out: Record<string, unknown> = {}
    const uri = rec(mm.uri)
    // a request path always starts with `/`: an exact or prefix value without one matches no
    // request in Envoy; the Gateway API refuses it. The match selects nothing: it is left out
    const literal = str(uri.exact) ?? str(uri.prefix)
    if (literal !== undefined && !literal.startsWith('/')) {
      ctx.gaps.push({ feature: 'match.uri', path: `${mat}.uri`, detail: `${literal} does not start with /, so no request path matches it (in Istio too); this match is left out${arr(r.match).length === 1 ? ', and with it the rule' : ''}`, resource: ctx.res })
      return undefined
    }
    if (str(uri.exact) !== undefined) out.path = { type: 'Exact', value: str(uri.exact) }
    else if (str(uri.prefix) !== undefined) out.path = { type: 'PathPrefix', value: str(uri.prefix) }
    else if (str(uri.regex) !== undefined) out.path = { type: 'RegularExpression', value: str(uri.regex) }
    // header names the Gateway API refuses (HTTPHeaderName: RFC 7230 token; pseudo-headers such
    // as `:authority` are not): the condition is dropped, and said
    const headers = Object.entries(rec(mm.headers)).flatMap(([name, sm]) => {
      if (fullMatch(HEADER_NAME, name)) return [{ name, ...stringMatch(rec(sm)) }]
      ctx.gaps.push({ feature: 'match.headers', path: `${mat}.headers.${name}`, detail: `${name} is not a header name the Gateway API accepts${name.startsWith(':') ? ` (a pseudo-header${name === ':authority' ? '; hostnames select the authority' : ''})` : ''}; this condition is dropped and the match is wider`, resource: ctx.res })
      return []
    })
    if (headers.length) out.headers = headers
    const query = Object.entries(rec(mm.queryParams)).map(([name, sm]) => ({ name, ...stringMatch(rec(sm)) }))
    if (query.length) out.queryParams = query
    const method = str(rec(mm.method).exact)
    if (method) out.method = method
    return out
  })
  const matches = written.filter((m): m is Record<string, unknown> => m !== undefined)
  // every match selected nothing: so does the rule
  if (written.length > 0 && matches.length === 0) return []
  const prefixUri = arr(r.match).map((m) => str(rec(rec(m).uri).prefix))
  if (prefixUri.some((p) => p !== undefined)) ctx.gaps.push({ feature: 'uri.prefix', path: `${at}.match`, detail: 'Istio prefixes are string prefixes, PathPrefix matches whole path segments (/foo no longer matches /foobar)', resource: ctx.res })
  const filters: Record<string, unknown>[] = []
  const headers = rec(r.headers)
  filters.push(...headerFilters(headers))
  const redirect = rec(r.redirect)
  const isRedirect = r.redirect !== undefined
  if (isRedirect && !str(redirect.uri) && !str(redirect.authority) && num(redirect.port) === undefined && !str(redirect.scheme) && !str(redirect.derivePort) && str(redirect.prefixRewrite) === undefined) {
    // Istio's validateHTTPRedirect refuses it: the input would not be admitted
    ctx.gaps.push({ feature: 'redirect', path: `${at}.redirect`, detail: 'invalid Istio input: a redirect must set uri, authority, scheme or port (Istio refuses it); rule not converted', resource: ctx.res })
    return []
  }
  /** Istio HTTPRedirect.prefixRewrite (without `uri`): the matched prefix is replaced, per match below */
  let redirectPrefix: string | undefined
  if (isRedirect) {
    const rr: Record<string, unknown> = {}
    if (str(redirect.uri)) rr.path = { type: 'ReplaceFullPath', replaceFullPath: str(redirect.uri) }
    else if (str(redirect.prefixRewrite) !== undefined) redirectPrefix = str(redirect.prefixRewrite)
    if (str(redirect.authority)) rr.hostname = str(redirect.authority)
    if (str(redirect.scheme)) rr.scheme = str(redirect.scheme)
    if (num(redirect.port) !== undefined) rr.port = num(redirect.port)
    const code = num(redirect.redirectCode) ?? 301
    const nearest = nearestRedirectCode(code, ctx.target.redirectCodes)
    if (nearest !== undefined) rr.statusCode = nearest
    if (nearest !== code) {
      const allowed = ctx.target.redirectCodes.join('/')
      ctx.gaps.push({ feature: 'redirect.redirectCode', path: `${at}.redirect.redirectCode`, detail: nearest === undefined ? `status ${code} is not a redirect the target allows (${allowed}); Gateway API default 302 used` : `status ${code} is not one the target allows (${allowed}); ${nearest} used`, resource: ctx.res })
    }
    filters.push({ type: 'RequestRedirect', requestRedirect: rr })
  }
  const rewrite = rec(r.rewrite)
  const uriRewrite = str(rewrite.uri)
  if (uriRewrite !== undefined || str(rewrite.authority)) {
    const rw: Record<string, unknown> = {}
    if (str(rewrite.authority)) rw.hostname = str(rewrite.authority)
    filters.push({ type: 'URLRewrite', urlRewrite: rw })
  }
  // mirrorPercentage wins over the deprecated mirrorPercent (an integer percent), as in Istio's
  // route translation; neither means 100 %
  const mirrorShare = num(rec(r.mirrorPercentage).value) !== undefined ? rec(r.mirrorPercentage) : num(r.mirrorPercent) !== undefined ? { value: num(r.mirrorPercent) } : {}
  const mirrors = [...(Object.keys(rec(r.mirror)).length ? [{ destination: rec(r.mirror), percentage: mirrorShare as Record<string, unknown> }] : []), ...arr(r.mirrors).map((m) => ({ destination: rec(rec(m).destination), percentage: rec(rec(m).percentage) }))]
  mirrors.forEach((m, j) => {
    const ref = backendRef({ destination: m.destination }, `${at}.mirror[${j}]`, ctx)
    if (!ref) return
    delete ref.weight
    const pct = num(m.percentage.value)
    filters.push({ type: 'RequestMirror', requestMirror: { backendRef: ref, ...(pct !== undefined ? (Number.isInteger(pct) ? { percent: pct } : { fraction: { numerator: Math.round(pct * 1000), denominator: 100000 } }) : {}) } })
  })
  if (r.corsPolicy !== undefined) {
    if (ctx.target.cors) {
      const cors = corsFilter(rec(r.corsPolicy), `${at}.corsPolicy`, ctx)
      if (cors) filters.push({ type: 'CORS', cors })
    } else ctx.gaps.push({ feature: 'corsPolicy', path: `${at}.corsPolicy`, detail: 'the target has no CORS filter (Gateway API v1.5 added it; v1.4.1 has none); not emitted', resource: ctx.res })
  }
  const rule: Record<string, unknown> = {}
  const name = str(r.name)
  if (name && /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) rule.name = name
  if (matches.length) rule.matches = matches
  if (filters.length) rule.filters = filters
  const timeout = str(r.timeout)
  if (timeout) {
    const d = gatewayDuration(timeout)
    if (d.value) rule.timeouts = { request: d.value }
    if (d.note) ctx.gaps.push({ feature: 'timeout', path: `${at}.timeout`, detail: d.note, resource: ctx.res })
  }
  if (!isRedirect) {
    const backendRefs = arr(r.route).map((d, j) => backendRef(rec(d), `${at}.route[${j}]`, ctx)).filter((b): b is Record<string, unknown> => !!b)
    rule.backendRefs = backendRefs
  }
  if (redirectPrefix !== undefined) return perMatchPathModifier(rule, matches, 'RequestRedirect', redirectPrefix, `${at}.redirect.prefixRewrite`, ctx)
  if (uriRewrite === undefined) return [rule]
  // rewrite.uri is Envoy's prefix_rewrite, written per match
  return perMatchPathModifier(rule, matches, 'URLRewrite', uriRewrite, `${at}.rewrite.uri`, ctx)
}

/**
 * A root rule's `delegate`: the delegate VirtualService's http rules take the root rule's place
 * (Istio inlines them in order), each delegate match merged with each root match: the delegate's
 * fields win, headers and query parameters are joined (pilot's mergeHTTPMatchRequests; the
 * delegate's matches are meant to be within the root's). A delegate not in the input, or one that
 * delegates again (Istio allows one level), is a gap and the rule is left out.
 */
function delegateRules(root: Record<string, unknown>, i: number, ctx: Ctx): Record<string, unknown>[] {
  const at = `spec.http[${i}].delegate`
  const d = rec(root.delegate)
  const name = str(d.name)
  const namespace = str(d.namespace) ?? nsOf(ctx.vs)
  const target = name ? ctx.view.get(KIND.VirtualService, namespace, name) : undefined
  if (!target) {
    ctx.gaps.push({ feature: 'delegate', path: at, detail: `delegate VirtualService ${namespace}/${name ?? ''} is not in the input; its rules are not converted (include it)`, resource: ctx.res })
    return []
  }
  const rootMatches = arr(root.match).map(rec)
  return arr(rec(target.spec).http).flatMap((raw, j) => {
    const rule = rec(raw)
    if (rule.delegate !== undefined) {
      ctx.gaps.push({ feature: 'delegate', path: at, detail: `${namespace}/${name} rule ${j} delegates again, which Istio does not follow; left out`, resource: ctx.res })
      return []
    }
    const own = arr(rule.match).map(rec)
    const match = own.length === 0 ? rootMatches : rootMatches.length === 0 ? own : own.flatMap((dm) => rootMatches.map((rm) => ({ ...rm, ...dm, headers: { ...rec(rm.headers), ...rec(dm.headers) }, queryParams: { ...rec(rm.queryParams), ...rec(dm.queryParams) } })))
    return httpRules({ ...rule, ...(match.length ? { match } : {}) }, i, { ...ctx, res: `${ctx.res} (delegate ${namespace}/${name} rule ${j})` })
  })
}

/** `ns/name` of every VirtualService some root's rule delegates to: they get no route of their own. */
function delegateTargets(view: ClusterView): Set<string> {
  const out = new Set<string>()
  for (const o of view.all()) {
    if (kindKeyOf(o) !== KIND.VirtualService) continue
    for (const r of arr(rec(o.spec).http)) {
      const d = rec(rec(r).delegate)
      if (str(d.name)) out.add(`${str(d.namespace) ?? nsOf(o)}/${str(d.name)}`)
    }
  }
  return out
}

/**
 * Envoy's prefix_rewrite (Istio `rewrite.uri`, and `redirect.prefixRewrite`) as the Gateway API
 * path modifier of the rule's `filter`, one rule per match, since ReplacePrefixMatch needs exactly
 * one PathPrefix match in its rule: after a prefix match (or none: the prefix `/`, then written
 * explicitly) ReplacePrefixMatch; after an exact match ReplaceFullPath (the prefix is the whole
 * path). After a regex match Envoy swaps the whole path on a rewrite (route.v3 RouteAction
 * prefix_rewrite): ReplaceFullPath, exact; a redirect there keeps its path and a gap says so.
 * A rule with a name gets `-<k>` per match when it splits.
 */
function perMatchPathModifier(rule: Record<string, unknown>, matches: Record<string, unknown>[], filter: 'URLRewrite' | 'RequestRedirect', value: string, at: string, ctx: Ctx): Record<string, unknown>[] {
  const list: Record<string, unknown>[] = matches.length ? matches : [{}]
  const field = filter === 'URLRewrite' ? 'urlRewrite' : 'requestRedirect'
  return list.map((m, k) => {
    const match = { ...m }
    const type = str(rec(match.path).type)
    let path: Record<string, unknown> | undefined
    if (type === 'Exact' || (type === 'RegularExpression' && filter === 'URLRewrite')) path = { type: 'ReplaceFullPath', replaceFullPath: value }
    else if (type === 'RegularExpression') ctx.gaps.push({ feature: 'redirect.prefixRewrite', path: at, detail: 'after a regex match Gateway API cannot replace a prefix; the redirect keeps the path', resource: ctx.res })
    else {
      if (!match.path) match.path = { type: 'PathPrefix', value: '/' }
      path = { type: 'ReplacePrefixMatch', replacePrefixMatch: value }
    }
    return {
      ...rule,
      ...(rule.name && list.length > 1 ? { name: `${rule.name}-${k}` } : {}),
      matches: [match],
      filters: (rule.filters as Record<string, unknown>[]).map((f) => (f.type === filter && path ? { type: filter, [field]: { ...rec(f[field]), path } } : f)),
    }
  })
}

/**
 * Istio `headers: {request, response}: {set, add, remove}` (on a route or a destination) as
 * RequestHeaderModifier / ResponseHeaderModifier filters; empty parts are left out.
 */
function headerFilters(headers: Record<string, unknown>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  for (const [key, type, field] of [['request', 'RequestHeaderModifier', 'requestHeaderModifier'], ['response', 'ResponseHeaderModifier', 'responseHeaderModifier']] as const) {
    const h = rec(headers[key])
    const m: Record<string, unknown> = {}
    const set = Object.entries(stringMap(h.set)).map(([name, value]) => ({ name, value }))
    const add = Object.entries(stringMap(h.add)).map(([name, value]) => ({ name, value }))
    if (set.length) m.set = set
    if (add.length) m.add = add
    if (strs(h.remove).length) m.remove = strs(h.remove)
    if (Object.keys(m).length) out.push({ type, [field]: m })
  }
  return out
}

/** A destination as a backendRef; a subset becomes the per-subset Service (generated when possible). */
function backendRef(d: Record<string, unknown>, path: string, ctx: Ctx): Record<string, unknown> | undefined {
  const dest = rec(d.destination)
  const host = str(dest.host)
  if (!host) return undefined
  const ns = nsOf(ctx.vs)
  const svc = serviceHost(host, ns)
  if (!svc) {
    ctx.gaps.push({ feature: 'destination host', path, detail: `${host} is not a Kubernetes Service (ServiceEntry hosts need implementation-specific backends); dropped`, resource: ctx.res })
    return undefined
  }
  let name = svc.name
  const subset = str(dest.subset)
  if (subset) {
    name = `${svc.name}-${subset}`
    const generated = resolveSubsetBackend(ctx.view, svc.namespace, name)
    if (generated) ctx.services.set(`${svc.namespace}/${name}`, generated.service)
    else if (!ctx.view.get(KIND.Service, svc.namespace, name)) ctx.gaps.push({ feature: 'subset', path, detail: `Service ${svc.namespace}/${name} not generated: the base Service or the DestinationRule subset is not in the input`, resource: ctx.res })
  }
  let port = num(rec(dest.port).number)
  if (port === undefined) {
    const ports = arr(rec(ctx.view.get(KIND.Service, svc.namespace, svc.name)?.spec).ports)
    if (ports.length === 1) port = num(rec(ports[0]).port)
  }
  if (port === undefined) ctx.gaps.push({ feature: 'destination port', path, detail: `no port for ${host} (backendRefs to a Service need one; include the Service in the input or set destination.port)`, resource: ctx.res })
  const ref: Record<string, unknown> = { name }
  if (svc.namespace !== ns) ref.namespace = svc.namespace
  if (port !== undefined) ref.port = port
  const weight = num(d.weight)
  if (weight !== undefined) ref.weight = weight
  const filters = headerFilters(rec(d.headers))
  if (filters.length) ref.filters = filters
  return ref
}
