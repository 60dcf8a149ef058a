/**
 * Istio routing, as Envoy serves a request with the configuration pilot generates: the model
 * `routeguard trace` runs for VirtualServices. Pure functions of (view, request).
 *
 * Sources (Istio 1.2x, istio.io "Traffic Management" reference and pilot):
 * - which VirtualService a sidecar in namespace N uses for a host (`SidecarScope` /
 *   `SelectVirtualServices`): mesh-bound VirtualServices exported to N (exportTo, `.` = own
 *   namespace), hosts FQDN-expanded in their namespace (`ConvertHostToFQDN`), an exact host before
 *   wildcards and a longer wildcard before a shorter; two VirtualServices for one host are a conflict
 *   (IST0109): the sidecar keeps one (its own namespace's first, then the oldest), reported as
 *   ambiguous;
 * - Istio Gateways (`pilot/pkg/networking/core/gateway.go`): the servers on the port whose hosts
 *   (`namespace/host`) match, the VirtualServices bound to the Gateway and exported to its
 *   namespace, **merged** for one host (their `http` rules in creation order);
 * - `HTTPRoute` rules in order, first match wins; `HTTPMatchRequest` (uri/scheme/method/authority
 *   exact, prefix, regex; headers with lower-case names; withoutHeaders; queryParams; port;
 *   sourceNamespace; match-level gateways): conditions ANDed, matches ORed, none = every request;
 * - `delegate`: the delegate's rules take the root rule's place, each match merged with the root's;
 * - actions: `redirect` (301 default), `directResponse`, `fault.abort` (at 100%), `rewrite.uri` as
 *   Envoy's `prefix_rewrite` (the matched prefix is replaced, the whole path after an exact or
 *   regex match; a rule without a uri match rewrites the prefix `/`), `rewrite.authority`, `uriRegexRewrite`, `headers`, `mirror(s)`, `route[]` with
 *   weights (one destination: 100) and subsets through DestinationRules to the Pods they select;
 * - no VirtualService: the request goes to the Service (all its ports); no rule matches: 404.
 */
import { arr, type K8sObject, KIND, nameOf, nsOf, num, rec, str, strs } from '../model/object.js'
import { hostSpecificity, hostsMatch, serviceOfFQDN, toFQDN } from '../model/hosts.js'
import { istioGateway, MESH_GATEWAY, resolveGatewayName, virtualService } from '../model/istio.js'
import type { View } from '../view/view.js'
import { fullMatch, regexReplaceAll } from './regex.js'
import { byAge, serviceForHost, serviceWorkloads } from './gateway-api.js'
import { addHeader, type BackendRequest, type Candidate, defaultPort, forwardedStatus, header, queryParam, type Redirect, removeHeader, requestTarget, setHeader, type TraceRequest, type TraceResult, type TracedBackend, unchanged } from './types.js'

/** Istio StringMatch (`exact`, `prefix`, `regex`: RE2, the whole value). */
function stringMatch(m: unknown, value: string | undefined, ignoreCase = false): boolean {
  if (value === undefined) return false
  const x = rec(m)
  const v = ignoreCase ? value.toLowerCase() : value
  if (typeof x.exact === 'string') return v === (ignoreCase ? x.exact.toLowerCase() : x.exact)
  if (typeof x.prefix === 'string') return v.startsWith(ignoreCase ? x.prefix.toLowerCase() : x.prefix)
  if (typeof x.regex === 'string') return fullMatch(x.regex, value, ignoreCase)
  return true // an empty StringMatch matches any value that is present
}

interface Context {
  /** `mesh`, or the Istio Gateway `ns/name` the request came through */
  gateway: string
  fromNamespace: string
}

/**
 * Does one `HTTPMatchRequest` select the request? @returns the matched uri prefix ('' when none)
 * and whether the whole path was matched (exact or regex: a rewrite replaces all of it), or undefined.
 */
export function istioMatch(raw: unknown, req: TraceRequest, ctx: Context, vsNamespace: string): { prefix: string | undefined; exact: boolean } | undefined {
  const m = rec(raw)
  const ignoreCase = m.ignoreUriCase === true
  let prefix: string | undefined
  let exact = false
  if (m.uri !== undefined) {
    if (!stringMatch(m.uri, req.path, ignoreCase)) return undefined
    const u = rec(m.uri)
    if (typeof u.prefix === 'string') prefix = u.prefix
    // Envoy's prefix_rewrite swaps the entire path after an exact or a regex path match
    if (typeof u.exact === 'string' || typeof u.regex === 'string') exact = true
  }
  if (m.scheme !== undefined && !stringMatch(m.scheme, req.scheme)) return undefined
  if (m.method !== undefined && !stringMatch(m.method, req.method)) return undefined
  if (m.authority !== undefined && !stringMatch(m.authority, req.host)) return undefined
  for (const [name, sm] of Object.entries(rec(m.headers))) if (!stringMatch(sm, header(req.headers, name))) return undefined
  for (const [name, sm] of Object.entries(rec(m.withoutHeaders))) if (header(req.headers, name) !== undefined && stringMatch(sm, header(req.headers, name))) return undefined
  for (const [name, sm] of Object.entries(rec(m.queryParams))) if (!stringMatch(sm, queryParam(req.query, name))) return undefined
  if (num(m.port) !== undefined && num(m.port) !== req.port) return undefined
  if (typeof m.sourceNamespace === 'string' && m.sourceNamespace !== ctx.fromNamespace) return undefined
  if (m.sourceLabels !== undefined && Object.keys(rec(m.sourceLabels)).length) return undefined // the client Pod's labels are not known
  const gws = strs(m.gateways)
  if (gws.length && !gws.some((g) => (g === MESH_GATEWAY ? ctx.gateway === MESH_GATEWAY : resolveGatewayName(g, vsNamespace) === ctx.gateway))) return undefined
  return { prefix, exact }
}

/** A rule's match list against the request: the first match that selects it (index, or null for none). */
function ruleMatch(rule: Record<string, unknown>, req: TraceRequest, ctx: Context, vsNamespace: string): { index: number | null; prefix: string | undefined; exact: boolean } | undefined {
  const matches = arr(rule.match)
  if (matches.length === 0) return { index: null, prefix: undefined, exact: false }
  for (let i = 0; i < matches.length; i++) {
    const m = istioMatch(matches[i], req, ctx, vsNamespace)
    if (m) return { index: i, ...m }
  }
  return undefined
}

/** A destination host as a Service (short names in the VirtualService's namespace), with the subset's Pods. */
function destination(view: View, raw: unknown, vsNamespace: string, weight: number): TracedBackend {
  const d = rec(raw)
  const host = str(d.host) ?? ''
  const fqdn = toFQDN(host, vsNamespace)
  const subset = str(d.subset)
  const port = num(rec(d.port).number) ?? null
  const svcName = serviceOfFQDN(fqdn)
  const service = svcName ? view.get(KIND.Service, svcName.namespace, svcName.name) : undefined
  const out: TracedBackend = { kind: service ? 'Service' : 'Host', namespace: svcName?.namespace ?? '', name: svcName?.name ?? fqdn, port, weight, ...(subset ? { subset } : {}), workloads: [] }
  if (!service) {
    const entry = [...view.serviceHostsMatching(fqdn)].find((p) => p.host === fqdn && p.obj.kind === 'ServiceEntry')
    if (entry) return { ...out, kind: 'ServiceEntry', namespace: nsOf(entry.obj), name: nameOf(entry.obj) }
    return { ...out, invalid: `host ${fqdn} is not a Service or ServiceEntry (Envoy answers 503: no cluster)` }
  }
  let labels: Record<string, string> = {}
  if (subset) {
    const dr = [...view.destinationRulesFor(fqdn)].find((x) => arr(rec(x.spec).subsets).some((s) => str(rec(s).name) === subset))
    if (!dr) return { ...out, invalid: `subset ${subset} of ${fqdn} is in no DestinationRule (Envoy answers 503: no cluster)` }
    labels = rec(rec(arr(rec(dr.spec).subsets).find((s) => str(rec(s).name) === subset)).labels) as Record<string, string>
  }
  return { ...out, workloads: serviceWorkloads(view, service, labels) }
}

/** Applies Istio `HeaderOperations` (set, add, remove; maps of name → value) to `headers` in place. */
function applyHeaders(headers: Record<string, string>, ops: unknown): void {
  const o = rec(ops)
  for (const [k, v] of Object.entries(rec(o.set))) setHeader(headers, k, String(v))
  for (const [k, v] of Object.entries(rec(o.add))) addHeader(headers, k, String(v))
  for (const k of strs(o.remove)) removeHeader(headers, k)
}

interface RuleRef {
  vs: K8sObject
  index: number
  rule: Record<string, unknown>
  /** the root rule a delegate's rule stands in, for the match it adds */
  root?: { vs: K8sObject; index: number; rule: Record<string, unknown> }
}

/** The rules evaluated in order, delegates inlined in their root rule's place. */
function expand(view: View, vs: K8sObject, depth = 0): RuleRef[] {
  const out: RuleRef[] = []
  const rules = virtualService(vs).http
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!
    const del = rec(rule.delegate)
    if (str(del.name) && depth === 0) {
      const target = view.get(KIND.VirtualService, str(del.namespace) ?? nsOf(vs), str(del.name)!)
      if (target) for (const r of expand(view, target, depth + 1)) out.push({ ...r, root: { vs, index: i, rule } })
      continue
    }
    out.push({ vs, index: i, rule })
  }
  return out
}

/** First match over `rules`; the winner's action. */
function firstMatch(view: View, rules: RuleRef[], req: TraceRequest, ctx: Context, via: string, candidates: Candidate[]): TraceResult {
  for (const r of rules) {
    const m = ruleMatch(r.rule, req, ctx, nsOf(r.vs))
    const rootOk = r.root ? ruleMatch(r.root.rule, req, ctx, nsOf(r.root.vs)) : { index: null, prefix: undefined, exact: false }
    const ref = { kind: 'VirtualService', namespace: nsOf(r.vs), name: nameOf(r.vs), rule: r.index }
    if (!m || !rootOk) {
      candidates.push({ ...ref, result: 'no-match', why: r.root && !rootOk ? `the match of root VirtualService ${nsOf(r.root.vs)}/${nameOf(r.root.vs)} rule ${r.root.index} does not select it` : 'its match does not select the request' })
      continue
    }
    candidates.push({ ...ref, result: 'won', why: `first matching rule${r.root ? ` (delegated from ${nsOf(r.root.vs)}/${nameOf(r.root.vs)} rule ${r.root.index})` : ''}` })
    const rest = rules.slice(rules.indexOf(r) + 1)
    for (const x of rest) if (ruleMatch(x.rule, req, ctx, nsOf(x.vs))) candidates.push({ kind: 'VirtualService', namespace: nsOf(x.vs), name: nameOf(x.vs), rule: x.index, result: 'shadowed', why: `would match too, but ${ref.namespace}/${ref.name} rule ${ref.rule} comes first (first match wins)` })
    return act(view, r, m.index ?? rootOk.index, m.prefix ?? rootOk.prefix, m.exact || rootOk.exact, req, via, candidates)
  }
  return { status: 404, route: null, backends: [], backendRequest: null, redirect: null, via, candidates }
}

/** What a matched rule does: redirect, direct response, abort, or route with rewrites and headers. */
function act(view: View, r: RuleRef, matchIndex: number | null, prefix: string | undefined, exact: boolean, req: TraceRequest, via: string, candidates: Candidate[]): TraceResult {
  const rule = r.rule
  const vsNs = nsOf(r.vs)
  const route = { kind: 'VirtualService', namespace: vsNs, name: nameOf(r.vs), rule: r.index, match: matchIndex }
  const base = { route, via, candidates }
  const redirect = rec(rule.redirect)
  if (rule.redirect !== undefined) {
    const scheme = str(redirect.scheme) ?? req.scheme
    const derive = str(redirect.derivePort)
    const port = num(redirect.port) ?? (derive === 'FROM_REQUEST_PORT' ? req.port : null)
    // uri replaces the path; prefixRewrite the matched prefix (the whole path after an exact or
    // regex match, `/` without a uri match), as Envoy's redirect prefix_rewrite does
    let path = str(redirect.uri) ?? req.path
    const prefixRewrite = str(redirect.prefixRewrite)
    if (str(redirect.uri) === undefined && prefixRewrite !== undefined) {
      const p = prefix ?? '/'
      path = exact ? prefixRewrite : prefixRewrite + req.path.slice(Math.min(p.length, req.path.length))
      if (path === '') path = '/'
    }
    const r2: Redirect = { statusCode: num(redirect.redirectCode) ?? 301, scheme, host: str(redirect.authority) ?? req.host, port: port === defaultPort(scheme) ? null : port, path }
    return { ...base, status: r2.statusCode, backends: [], backendRequest: null, redirect: r2 }
  }
  if (rule.directResponse !== undefined) return { ...base, status: num(rec(rule.directResponse).status) ?? 200, backends: [], backendRequest: null, redirect: null }
  const abort = rec(rec(rule.fault).abort)
  if (rule.fault !== undefined && num(abort.httpStatus) !== undefined) {
    const pct = num(rec(abort.percentage).value)
    if (pct === undefined || pct >= 100) return { ...base, status: num(abort.httpStatus)!, backends: [], backendRequest: null, redirect: null }
  }
  const headers = { ...req.headers }
  applyHeaders(headers, rec(rule.headers).request)
  let path = req.path
  let host = req.host
  const rewrite = rec(rule.rewrite)
  if (typeof rewrite.uri === 'string') {
    // Envoy prefix_rewrite: the matched prefix (the whole path after an exact or regex match, `/` without a uri match)
    if (exact) path = rewrite.uri
    else {
      const p = prefix ?? '/'
      path = rewrite.uri + path.slice(Math.min(p.length, path.length))
      if (path === '') path = '/'
    }
  }
  if (typeof rewrite.authority === 'string') host = rewrite.authority
  const regexRewrite = rec(rule.rewrite).uriRegexRewrite
  if (regexRewrite) {
    // a pattern RE2 refuses (Istio's validation refuses it too): the path is kept
    path = regexReplaceAll(str(rec(regexRewrite).match) ?? '', path, str(rec(regexRewrite).rewrite) ?? '') ?? path
  }
  const dests = arr(rule.route)
  const weights = dests.map((d) => num(rec(d).weight))
  const backends = dests.map((d, i) => destination(view, rec(d).destination, vsNs, dests.length === 1 ? (weights[0] ?? 100) : (weights[i] ?? (weights.every((w) => w === undefined) ? Math.floor(100 / dests.length) : 0))))
  const mirrors = [...(rule.mirror ? [rule.mirror] : []), ...arr(rule.mirrors).map((m) => rec(m).destination)].map((m) => destination(view, m, vsNs, 0))
  const usable = backends.filter((b) => !b.invalid && b.weight > 0)
  const status = dests.length === 0 ? 500 : usable.length ? forwardedStatus(req, 'VirtualService') : 503
  const firstDest = rec(dests[backends.indexOf(usable[0]!)])
  const backendHeaders = { ...headers }
  applyHeaders(backendHeaders, rec(firstDest.headers).request)
  const backendRequest: BackendRequest | null = usable.length && dests.length ? { method: req.method, path: requestTarget(path, req.query), host, headers: backendHeaders } : null
  const response = rec(rec(rule.headers).response)
  const retries = rec(rule.retries)
  const delay = str(rec(rec(rule.fault).delay).fixedDelay)
  const policies = {
    ...(str(rule.timeout) ? { timeout: str(rule.timeout) } : {}),
    ...(rule.retries !== undefined ? { retries: { ...(num(retries.attempts) !== undefined ? { attempts: num(retries.attempts) } : {}), ...(str(retries.perTryTimeout) ? { perTryTimeout: str(retries.perTryTimeout) } : {}), ...(str(retries.retryOn) ? { retryOn: str(retries.retryOn) } : {}) } } : {}),
    ...(delay ? { delay } : {}),
  }
  return {
    ...base,
    status,
    backends,
    backendRequest,
    redirect: null,
    ...(Object.keys(response).length ? { responseHeaders: { set: rec(response.set) as Record<string, string>, add: rec(response.add) as Record<string, string>, remove: strs(response.remove) } } : {}),
    ...(mirrors.length ? { mirrors } : {}),
    ...(Object.keys(policies).length ? { policies } : {}),
  }
}

/**
 * A request inside the mesh from a sidecar in `fromNamespace` to `req.host` (as the client writes
 * it: `reviews`, `reviews.bookinfo`, an FQDN, a ServiceEntry host).
 */
export function traceIstioMesh(view: View, fromNamespace: string, req: TraceRequest): TraceResult {
  const candidates: Candidate[] = []
  const service = req.host === undefined ? undefined : serviceForHost(view, req.host, fromNamespace)
  const fqdn = service ? toFQDN(nameOf(service), nsOf(service)) : (req.host ?? '')
  const target = service ? `${nameOf(service)}.${nsOf(service)}.svc.cluster.local` : fqdn
  const via = `mesh from namespace ${fromNamespace} to ${target}:${req.port}`
  const visible: { obj: K8sObject; host: string }[] = []
  for (const p of view.meshHostsMatching(target)) {
    if (!hostsMatch(p.host, target) || (p.host.startsWith('*') && !target.endsWith(p.host.slice(1)))) continue
    const exported = p.scopes.includes('*') || p.scopes.includes(fromNamespace)
    if (!exported) {
      candidates.push({ kind: 'VirtualService', namespace: nsOf(p.obj), name: nameOf(p.obj), rule: null, result: 'not-attached', why: `exportTo ${p.scopes.join(',')} does not include namespace ${fromNamespace}` })
      continue
    }
    if (!visible.some((v) => v.obj === p.obj)) visible.push({ obj: p.obj, host: p.host })
  }
  if (visible.length === 0) {
    if (!service) return { status: 404, route: null, backends: [], backendRequest: null, redirect: null, via: `${via}: no Service, ServiceEntry or VirtualService for the host`, candidates }
    return {
      status: forwardedStatus(req, 'Service'),
      route: null,
      backends: [{ kind: 'Service', namespace: nsOf(service), name: nameOf(service), port: req.port, weight: 100, workloads: serviceWorkloads(view, service) }],
      backendRequest: unchanged(req),
      redirect: null,
      via: `${via} (no VirtualService: the Service itself)`,
      candidates,
    }
  }
  const best = Math.max(...visible.map((v) => hostSpecificity(v.host)))
  const top = visible.filter((v) => hostSpecificity(v.host) === best).map((v) => v.obj)
  top.sort((a, b) => (nsOf(a) === fromNamespace ? 0 : 1) - (nsOf(b) === fromNamespace ? 0 : 1) || byAge(a, b))
  for (const v of visible) if (!top.includes(v.obj)) candidates.push({ kind: 'VirtualService', namespace: nsOf(v.obj), name: nameOf(v.obj), rule: null, result: 'hostname', why: `host ${v.host} is less specific than another VirtualService's` })
  const chosen = top[0]!
  let ambiguous: string | undefined
  if (top.length > 1) {
    ambiguous = `IST0109: ${top.map((o) => `VirtualService ${nsOf(o)}/${nameOf(o)}`).join(' and ')} all define host ${target} for the mesh; sidecars keep one of them (here ${nsOf(chosen)}/${nameOf(chosen)}), which one is not defined`
    for (const o of top.slice(1)) candidates.push({ kind: 'VirtualService', namespace: nsOf(o), name: nameOf(o), rule: null, result: 'ambiguous', why: ambiguous })
  }
  const r = firstMatch(view, expand(view, chosen), req, { gateway: MESH_GATEWAY, fromNamespace }, via, candidates)
  return ambiguous ? { ...r, ambiguous } : r
}

/** Does an Istio Gateway server host (`ns/host`, `host`) admit a VirtualService in `vsNs` for the request host? */
export function serverAdmits(serverHost: string, gatewayNs: string, vsNs: string | undefined, host: string): boolean {
  const slash = serverHost.indexOf('/')
  const ns = slash < 0 ? '*' : serverHost.slice(0, slash)
  const h = slash < 0 ? serverHost : serverHost.slice(slash + 1)
  if (vsNs !== undefined && ns !== '*' && (ns === '.' ? gatewayNs : ns) !== vsNs) return false
  return h === '*' || hostsMatch(h, host)
}

/**
 * A request through the Istio Gateway `gateway` on `req.port`: the servers on the port that admit
 * the host, the VirtualServices bound to the Gateway for that host (merged, oldest first), first match.
 */
/**
 * Is every Envoy route of this rule a catch-all (pilot's isCatchAllRoute: path prefix `/` or regex
 * `*`, no header or query parameter match)? A rule without matches is one. Method, scheme and
 * authority matches are header matches in Envoy. A rule that mixes catch-all and other matches is
 * not moved (routeguard moves whole rules).
 */
export function isCatchAllRule(rule: Record<string, unknown>): boolean {
  const matches = arr(rule.match)
  return matches.every((raw) => {
    const m = rec(raw)
    const uri = rec(m.uri)
    const path = m.uri === undefined || uri.prefix === '/' || uri.regex === '*'
    const noHeaders = [m.headers, m.queryParams, m.withoutHeaders].every((x) => Object.keys(rec(x)).length === 0) && m.method === undefined && m.scheme === undefined && m.authority === undefined
    return path && noHeaders
  })
}

export function traceIstioGateway(view: View, gateway: K8sObject, req: TraceRequest): TraceResult {
  const candidates: Candidate[] = []
  const g = istioGateway(gateway)
  const gwName = `${g.namespace}/${g.name}`
  const host = req.host ?? ''
  const servers = g.servers.filter((s) => s.port === req.port && s.hosts.some((h) => serverAdmits(h, g.namespace, undefined, host)))
  const via = `Istio Gateway ${gwName} port ${req.port}`
  if (servers.length === 0) return { status: 404, route: null, backends: [], backendRequest: null, redirect: null, via: `${via}: no server for host ${host || '(address)'}`, candidates }
  const bound: { obj: K8sObject; host: string }[] = []
  // the VirtualServices on this gateway whose hosts can match (a bucket lookup, not every one)
  const seen = new Set<K8sObject>()
  for (const posting of view.virtualServicesOnGatewayFor(gwName, host || '*')) {
    const vs = posting.obj
    if (seen.has(vs)) continue
    seen.add(vs)
    const f = virtualService(vs)
    const ref = { kind: 'VirtualService', namespace: f.namespace, name: f.name, rule: null }
    const h = f.hosts.find((x) => x === '*' || hostsMatch(x, host))
    if (!h) {
      candidates.push({ ...ref, result: 'hostname', why: `its hosts ${f.hosts.join(', ')} do not match ${host}` })
      continue
    }
    if (!servers.some((s) => s.hosts.some((sh) => serverAdmits(sh, g.namespace, f.namespace, host)))) {
      candidates.push({ ...ref, result: 'not-attached', why: `no server of ${gwName} on port ${req.port} admits VirtualServices of namespace ${f.namespace} for ${host}` })
      continue
    }
    if (!(f.scopes.includes('*') || f.scopes.includes(g.namespace))) {
      candidates.push({ ...ref, result: 'not-attached', why: `exportTo ${f.scopes.join(',')} does not include the Gateway's namespace ${g.namespace}` })
      continue
    }
    bound.push({ obj: vs, host: h })
  }
  // one virtual host per server host: the most specific VirtualService host wins; equal ones are merged
  const best = bound.length ? Math.max(...bound.map((b) => (b.host === '*' ? 0 : hostSpecificity(b.host)))) : 0
  const merged = bound.filter((b) => (b.host === '*' ? 0 : hostSpecificity(b.host)) === best).map((b) => b.obj).sort(byAge)
  for (const b of bound) if (!merged.includes(b.obj)) candidates.push({ kind: 'VirtualService', namespace: nsOf(b.obj), name: nameOf(b.obj), rule: null, result: 'hostname', why: `host ${b.host} is less specific than another VirtualService's on this Gateway` })
  let rules = merged.flatMap((vs) => expand(view, vs))
  // pilot combines the VirtualServices of one host oldest first, then moves the catch-all routes
  // to the end, keeping the order of the rest (CombineVHostRoutes / SortVHostRoutes)
  if (merged.length > 1) rules = [...rules.filter((r) => !isCatchAllRule(r.rule)), ...rules.filter((r) => isCatchAllRule(r.rule))]
  return firstMatch(view, rules, req, { gateway: gwName, fromNamespace: g.namespace }, `${via}${merged.length > 1 ? ` (merged: ${merged.map((o) => `${nsOf(o)}/${nameOf(o)}`).join(', ')})` : ''}`, candidates)
}
