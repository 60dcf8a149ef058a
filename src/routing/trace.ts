/**
 * `routeguard trace`: one request, through a Gateway (Gateway API or Istio) or inside the mesh
 * from a client namespace, answered by the routing models of ./gateway-api.ts and ./istio.ts.
 * This module parses what the command line gives (URL, headers, `--gateway`) and formats the answer.
 */
import { type K8sObject, KIND, nameOf, nsOf } from '../model/object.js'
import { serviceFQDN } from '../model/hosts.js'
import type { View } from '../view/view.js'
import { serviceForHost, traceGateway, traceMesh } from './gateway-api.js'
import { traceIstioGateway, traceIstioMesh } from './istio.js'
import { defaultPort, describeRedirect, type TraceRequest, type TraceResult } from './types.js'

/** A usage error: exit 2 with this message. */
export class TraceUsageError extends Error {
  override name = 'TraceUsageError'
}

export interface TraceOptions {
  url: string
  method?: string
  /** `Name: value` strings, as curl's -H */
  headers?: string[]
  sni?: string
  /** `[KIND/]NS/NAME[:PORT]`; KIND is `gateway.networking.k8s.io` (or `Gateway`) or `networking.istio.io` */
  gateway?: string
  /** the client's namespace, for a request inside the mesh */
  from?: string
}

/**
 * The request of `o`: URL (scheme, host, port, path, query), method, headers (a `Host` header
 * replaces the URL's host), SNI (default: the host, for https).
 * @throws TraceUsageError on a URL that does not parse or a header without `:`
 */
export function parseRequest(o: TraceOptions): TraceRequest {
  let url: URL
  try {
    url = new URL(o.url.includes('://') ? o.url : `http://${o.url}`)
  } catch {
    throw new TraceUsageError(`--url ${o.url}: not a URL (http://host[:port]/path?query)`)
  }
  const scheme = url.protocol.replace(/:$/, '')
  const headers: Record<string, string> = {}
  for (const h of o.headers ?? []) {
    const i = h.indexOf(':')
    if (i <= 0) throw new TraceUsageError(`-H ${h}: not 'Name: value'`)
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim()
  }
  const hostHeader = Object.entries(headers).find(([k]) => k.toLowerCase() === 'host')?.[1]
  const host = (hostHeader ?? url.hostname).replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  const urlHost = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const isAddress = /^[\d.]+$/.test(host) || host.includes(':')
  if ((scheme === 'tcp' || scheme === 'udp') && !url.port) throw new TraceUsageError(`--url ${o.url}: ${scheme} needs a port (${scheme}://host:port)`)
  const port = url.port ? Number(url.port) : defaultPort(scheme)
  const req: TraceRequest = {
    scheme,
    host: isAddress ? undefined : host.toLowerCase(),
    port,
    method: (o.method ?? 'GET').toUpperCase(),
    path: decodeURI(url.pathname || '/'),
    ...(url.search.length > 1 ? { query: url.search.slice(1) } : {}),
    headers,
    ...(o.sni || scheme === 'https' || scheme === 'tls' ? { sni: o.sni ?? host } : {}),
    ...(hostHeader !== undefined && urlHost !== host.toLowerCase() && !/^[\d.]+$/.test(urlHost) && !urlHost.includes(':') ? { connect: urlHost } : {}),
  }
  if (scheme === 'grpc') {
    const [, service, method] = req.path.split('/')
    if (service && method) req.grpc = { service, method }
  }
  return req
}

/**
 * Which Gateway `--gateway` names: `KIND/NS/NAME[:PORT]` or `NS/NAME[:PORT]`.
 * @throws TraceUsageError when it names none, or a bare name matches a Gateway API Gateway and an Istio Gateway
 */
export function resolveGateway(view: View, spec: string): { kind: 'gateway-api' | 'istio'; obj: K8sObject; port?: number } {
  const m = /^(?:([^/]+)\/)?([^/]+)\/([^/:]+)(?::(\d+))?$/.exec(spec)
  if (!m) throw new TraceUsageError(`--gateway ${spec}: expected [KIND/]NAMESPACE/NAME[:PORT]`)
  const [, kind, ns, name, port] = m
  const k = kind?.toLowerCase()
  const istio = k === undefined || k.startsWith('networking.istio.io') || k === 'istio' ? view.get(KIND.IstioGateway, ns!, name!) : undefined
  const gwapi = k === undefined || k.startsWith('gateway.networking.k8s.io') || k === 'gateway' ? view.get(KIND.Gateway, ns!, name!) : undefined
  if (k !== undefined && !istio && !gwapi && !['networking.istio.io', 'istio', 'gateway.networking.k8s.io', 'gateway'].some((x) => k.startsWith(x))) {
    throw new TraceUsageError(`--gateway ${spec}: KIND is gateway.networking.k8s.io or networking.istio.io`)
  }
  if (istio && gwapi) throw new TraceUsageError(`--gateway ${spec}: both Gateway ${ns}/${name} (gateway.networking.k8s.io) and Gateway ${ns}/${name} (networking.istio.io) exist; say which: gateway.networking.k8s.io/${ns}/${name} or networking.istio.io/${ns}/${name}`)
  const obj = istio ?? gwapi
  if (!obj) throw new TraceUsageError(`--gateway ${spec}: no such Gateway in the input`)
  return { kind: istio ? 'istio' : 'gateway-api', obj, ...(port ? { port: Number(port) } : {}) }
}

/**
 * Traces the request of `o` against `view`.
 * @throws TraceUsageError on a bad URL, header or gateway, or when neither --gateway nor --from is given
 */
export function trace(view: View, o: TraceOptions): TraceResult {
  const req = parseRequest(o)
  if (o.gateway && o.from) throw new TraceUsageError('--gateway and --from are exclusive: through a Gateway, or inside the mesh')
  if (o.gateway) {
    const g = resolveGateway(view, o.gateway)
    if (g.port) req.port = g.port
    return g.kind === 'istio' ? traceIstioGateway(view, g.obj, req) : traceGateway(view, g.obj, req)
  }
  if (!o.from) throw new TraceUsageError('say where the request starts: --gateway [KIND/]NS/NAME[:PORT] or --from NAMESPACE')
  return traceFromNamespace(view, o.from, req)
}

/**
 * A request inside the mesh from a client (a sidecar) in namespace `from`: Istio's VirtualService
 * routing and the GAMMA routes that apply to that client, combined as the mesh does (a consumer
 * route first in its namespace; both at once is RG0102, `ambiguous`). `req.connect` is the host
 * the client connects to when a Host header says otherwise (see `parseRequest`).
 */
export function traceFromNamespace(view: View, from: string, req: TraceRequest): TraceResult {
  const o = { from }
  // the sidecar picks a VirtualService by the Host header; GAMMA routes by the Service the client
  // connects to (GEP-1294; conformance MeshFrontendHostname): with curl's -H 'Host: …' they differ
  const istio = traceIstioMesh(view, o.from, req)
  const connectReq: TraceRequest = req.connect ? { ...req, host: req.connect } : req
  const service = connectReq.host === undefined ? undefined : serviceForHost(view, connectReq.host, o.from)
  // GAMMA routes that apply to this client: the producer's (in the Service's namespace) and a
  // consumer route in the client's own namespace (GEP-1426); another namespace's consumer routes
  // do not apply here, and then the VirtualService alone decides
  const applying = service ? [...view.serviceRoutesMatching(serviceFQDN(nameOf(service), nsOf(service)))].filter((p) => p.parent.namespace === nsOf(service) && p.parent.name === nameOf(service) && (nsOf(p.obj) === nsOf(service) || nsOf(p.obj) === o.from)) : []
  if (applying.length === 0) return req.connect ? { ...istio, via: `${istio.via} (the sidecar picked the VirtualService by the Host header ${req.host}, not by ${req.connect}, the host connected to)` } : istio
  const traced = traceMesh(view, o.from, connectReq)
  const routed = req.connect ? { ...traced, via: `${traced.via} (GAMMA routes follow the Service connected to, ${req.connect}, not the Host header ${req.host})` } : traced
  const consumer = o.from !== nsOf(service!) && applying.some((p) => nsOf(p.obj) === o.from)
  if (consumer && istio.route) {
    // a consumer route is configuration of the client's namespace: Istio prefers it to the
    // producer's VirtualService for these clients (the order is defined, not ambiguous)
    const why = `a consumer route in ${o.from} applies to clients there before the producer's VirtualService`
    return { ...routed, candidates: [...routed.candidates, { kind: 'VirtualService', namespace: istio.route.namespace, name: istio.route.name, rule: istio.route.rule, result: 'shadowed', why }] }
  }
  if (istio.route) {
    // RG0102: a VirtualService and a GAMMA route for one Service; the data plane keeps one
    const ambiguous = `RG0102: VirtualService ${istio.route.namespace}/${istio.route.name} and ${routed.route ? `${routed.route.kind} ${routed.route.namespace}/${routed.route.name}` : 'GAMMA routes'} both route Service ${nsOf(service!)}/${nameOf(service!)}; which one the mesh applies is not defined (shown: the GAMMA route; the VirtualService would send it to ${istio.backends.map((b) => `${b.namespace}/${b.name}${b.subset ? ` subset ${b.subset}` : ''}`).join(', ') || `status ${istio.status}`})`
    return { ...routed, ambiguous, candidates: [...routed.candidates, { kind: 'VirtualService', namespace: istio.route.namespace, name: istio.route.name, rule: istio.route.rule, result: 'ambiguous', why: ambiguous }] }
  }
  return routed
}

/** Exit code of a trace: 0 routed (2xx, 3xx), 1 not (4xx, 5xx). */
export function traceExitCode(r: TraceResult): 0 | 1 {
  return r.status < 400 ? 0 : 1
}

/** The answer for people: status, route, backends and workloads, backend request, redirect, candidates. */
export function formatTrace(r: TraceResult, source?: (kind: string, namespace: string, name: string) => string | undefined): string {
  const lines: string[] = []
  lines.push(`${r.status} via ${r.via}`)
  if (r.ambiguous) lines.push(`ambiguous: ${r.ambiguous}`)
  if (r.route) {
    const where = source?.(r.route.kind, r.route.namespace, r.route.name)
    lines.push(`route: ${r.route.kind} ${r.route.namespace}/${r.route.name} rule ${r.route.rule}${r.route.match === null ? '' : ` match ${r.route.match}`}${where ? ` (${where})` : ''}`)
  } else lines.push('route: none')
  if (r.redirect) lines.push(`redirect: ${describeRedirect(r.redirect)}`)
  for (const b of r.backends) {
    lines.push(`backend: ${b.kind} ${b.namespace ? `${b.namespace}/` : ''}${b.name}${b.subset ? ` subset ${b.subset}` : ''}${b.port !== null ? ` port ${b.port}` : ''} weight ${b.weight}${b.invalid ? ` INVALID: ${b.invalid}` : ''}`)
    if (b.tls) lines.push(`  tls: ${b.tls.policy}${b.tls.sni ? `, SNI ${b.tls.sni}` : ''}`)
    for (const w of b.workloads) lines.push(`  workload: ${w.kind} ${w.namespace}/${w.name}`)
  }
  for (const m of r.mirrors ?? []) lines.push(`mirror: ${m.kind} ${m.namespace}/${m.name}${m.invalid ? ` INVALID: ${m.invalid}` : ''}`)
  if (r.policies) lines.push(`policies: ${JSON.stringify(r.policies)}`)
  if (r.backendRequest) {
    const br = r.backendRequest
    lines.push(`backend receives: ${br.method} ${br.path} host ${br.host ?? '(unchanged address)'}${br.sni ? ` over TLS, SNI ${br.sni}` : ''}`)
    for (const [k, v] of Object.entries(br.headers)) lines.push(`  ${k}: ${v}`)
  }
  for (const c of r.candidates) lines.push(`candidate: ${c.kind} ${c.namespace}/${c.name}${c.rule === null ? '' : ` rule ${c.rule}`}: ${c.result}: ${c.why}`)
  return lines.join('\n')
}
