/**
 * "The same routing before and after" for `convert`: for each VirtualService, the request classes
 * its matches tell apart (each exact path; each prefix, a path under it and a string-prefix
 * neighbour; each header/query/method value, and the request without them; `/`), traced under
 * Istio's semantics on the input (routing/istio.ts) and under the Gateway API's on the output
 * (routing/gateway-api.ts), the same models `routeguard trace` runs. A request whose status,
 * destinations (a subset `v1` of `reviews` is the per-subset Service `reviews-v1`), weights,
 * redirect or rewritten path differ is reported, once, naming the request and both outcomes; a
 * request neither side can serve (Istio 503, Gateway API 500) is not a difference.
 * At most MAX_CLASSES requests per VirtualService.
 */
import { arr, type K8sObject, KIND, kindKeyOf, nsOf, rec, strs } from '../model/object.js'
import { serviceOfFQDN, toFQDN } from '../model/hosts.js'
import { gatewayRef, istioGateway, MESH_GATEWAY } from '../model/istio.js'
import { describeRequest, exampleHost } from '../routing/examples.js'
import { traceGateway, traceMesh } from '../routing/gateway-api.js'
import { traceIstioGateway, traceIstioMesh } from '../routing/istio.js'
import { backendShares, describeRedirect, type TraceRequest, type TraceResult } from '../routing/types.js'
import { ClusterView, type View } from '../view/view.js'
import type { Gap } from './gaps.js'
import { Values } from '../impact/classes.js'

export const MAX_CLASSES = 64

/**
 * Requests that a VirtualService's http matches tell apart, on `host`, port `port`: the request
 * classes of impact/classes.ts (`Values`: each exact path; each prefix, a path under it and a
 * string-prefix neighbour; `/`; each header/query/method combination a match names with the
 * paths it covers, and none). At most MAX_CLASSES.
 */
export function requestClasses(vs: K8sObject, host: string | undefined, port: number): TraceRequest[] {
  const values = new Values(Infinity)
  values.own(vs)
  const out: TraceRequest[] = []
  for (const req of values.requests(host, port, 'http')) {
    if (out.length >= MAX_CLASSES) break
    out.push(req)
  }
  return out
}

interface Outcome {
  status: number
  /** `name=weight%` of usable backends, sorted */
  backends: string[]
  redirect: string
  path: string
}

function outcome(r: TraceResult, subsets: boolean): Outcome {
  return {
    status: r.status,
    backends: backendShares(r).map(({ backend: b, percent }) => `${b.namespace}/${subsets && b.subset ? `${b.name}-${b.subset}` : b.name}=${percent}%`).sort(),
    redirect: r.redirect ? describeRedirect(r.redirect) : '',
    path: r.backendRequest?.path ?? '',
  }
}

function text(o: Outcome): string {
  if (o.redirect) return `redirect ${o.redirect}`
  if (o.status !== 200) return `status ${o.status}`
  return `${o.backends.join(', ')}${o.path ? ` (path ${o.path})` : ''}`
}

/**
 * Differences between Istio's routing of the input and the Gateway API's routing of the output for
 * one VirtualService, as gaps on the VirtualService (`path` `spec.http`).
 * @param input the view of convert's input; @param output a view of convert's output plus the input's Services and workloads
 */
export function routingDifferences(vs: K8sObject, input: ClusterView, output: ClusterView): Gap[] {
  const gaps: Gap[] = []
  const ns = nsOf(vs)
  const hosts = strs(rec(vs.spec).hosts)
  const gateways = strs(rec(vs.spec).gateways)
  const seen = new Map<string, { gap: Gap; first: string; host: string | undefined; hosts: string[] }>()
  const compare = (req: TraceRequest, before: TraceResult, after: TraceResult, where: string) => {
    const a = outcome(before, true)
    const b = outcome(after, false)
    // no usable backend on both sides is the same failure: Istio answers 503, a Gateway API
    // implementation 500 (typically a Service the input does not hold); not a routing change
    const bothFail = a.status >= 500 && b.status >= 500 && !a.redirect && !b.redirect
    if (bothFail || (a.status === b.status && a.redirect === b.redirect && a.path === b.path && a.backends.join() === b.backends.join())) return
    // one line per difference: the same request class with the same outcomes on another host of
    // the VirtualService adds that host to the line instead of a line of its own
    const key = JSON.stringify([describeRequest({ ...req, host: undefined }), where, text(a), text(b)])
    const earlier = seen.get(key)
    if (earlier) {
      if (req.host === earlier.host || earlier.hosts.includes(req.host ?? '')) return
      earlier.hosts.push(req.host ?? '')
      earlier.gap.detail = `${earlier.first} (also on ${earlier.hosts.length > 3 ? `${earlier.hosts.slice(0, 3).join(', ')} and ${earlier.hosts.length - 3} more` : earlier.hosts.join(', ')})`
      return
    }
    const first = `${describeRequest(req)}${where}: Istio sends it to ${text(a)}; the converted routes send it to ${text(b)}`
    const gap: Gap = { feature: 'routing', path: 'spec.http', detail: first }
    seen.set(key, { gap, first, host: req.host, hosts: [] })
    gaps.push(gap)
  }
  // only http routes are traced as HTTP requests (a tls- or tcp-only VirtualService has none)
  if (arr(rec(vs.spec).http).length === 0) return gaps
  if (gateways.length === 0 || gateways.includes(MESH_GATEWAY)) {
    for (const h of hosts) {
      const host = exampleHost(h)
      if (!host) continue
      const svcHost = toFQDN(host, ns)
      const svc = serviceOfFQDN(svcHost)
      const service = svc ? input.get(KIND.Service, svc.namespace, svc.name) : undefined
      const port = Number(rec(arr(rec(service?.spec).ports)[0]).port) || 80
      for (const req of requestClasses(vs, svcHost, port)) {
        if (gaps.length >= 10) return gaps
        compare(req, traceIstioMesh(input, ns, req), traceMesh(output, ns, req), ` from namespace ${ns}`)
      }
    }
  }
  for (const g of gateways) {
    if (g === MESH_GATEWAY) continue
    const ref = gatewayRef(g, ns)
    const igw = input.get(KIND.IstioGateway, ref.namespace, ref.name)
    const gw = output.get(KIND.Gateway, ref.namespace, ref.name)
    if (!igw || !gw) continue
    for (const h of hosts) {
      const host = exampleHost(h) ?? 'any.example.com'
      const server = istioGateway(igw).servers.find((s) => s.hosts.length > 0)
      if (!server) continue
      // a server with TLS (or HTTPS) takes HTTPS requests: the converted listener is HTTPS too
      const tls = server.https
      for (const plain of requestClasses(vs, host, server.port)) {
        const req = tls ? { ...plain, scheme: 'https', sni: host } : plain
        if (gaps.length >= 10) return gaps
        compare(req, traceIstioGateway(input, igw, req), traceGateway(output, gw, req), ` through ${ref.namespace}/${ref.name}`)
      }
    }
  }
  return gaps
}

/**
 * `input` and `output` with, for every Gateway a bound VirtualService of `input` names that is not
 * there (an Istio Gateway missing from the input, or its converted Gateway missing from the
 * output), an assumed one: an Istio Gateway with one HTTP server on port 80 for every host, and a
 * Gateway API Gateway with one HTTP listener on 80 taking routes from every namespace. Then
 * `routingDifferences` compares a VirtualService's own order and matches even without its Gateway
 * (#26 S6). Returns the views unchanged (no copy) when nothing is missing.
 */
export function withAssumedGateways(input: ClusterView, output: ClusterView): { input: ClusterView; output: ClusterView } {
  const missing = new Map<string, { namespace: string; name: string }>()
  for (const vs of input.all()) {
    if (kindKeyOf(vs) !== KIND.VirtualService) continue
    for (const g of strs(rec(vs.spec).gateways)) {
      if (g === MESH_GATEWAY) continue
      const ref = gatewayRef(g, nsOf(vs))
      if (!input.get(KIND.IstioGateway, ref.namespace, ref.name) || !output.get(KIND.Gateway, ref.namespace, ref.name)) missing.set(`${ref.namespace}/${ref.name}`, ref)
    }
  }
  if (missing.size === 0) return { input, output }
  const copy = (v: ClusterView) => {
    const out = new ClusterView()
    for (const o of v.all()) out.upsert(o)
    return out
  }
  const inCopy = copy(input)
  const outCopy = copy(output)
  for (const { namespace, name } of missing.values()) {
    if (!inCopy.get(KIND.IstioGateway, namespace, name)) inCopy.upsert({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name, namespace }, spec: { selector: {}, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*/*'] }] } })
    if (!outCopy.get(KIND.Gateway, namespace, name)) outCopy.upsert({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name, namespace }, spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] } })
  }
  return { input: inCopy, output: outCopy }
}

/** The view `routingDifferences` reads for the output side: convert's objects plus what the input holds besides VirtualServices, Istio Gateways and DestinationRules. */
export function outputView(objects: K8sObject[], input: Iterable<K8sObject>): ClusterView {
  const v = new ClusterView()
  const converted = new Set([KIND.VirtualService, KIND.IstioGateway, KIND.DestinationRule].map((k) => k.split('/')[1]))
  for (const o of input) if (!(String(o.apiVersion).startsWith('networking.istio.io/') && converted.has(String(o.kind)))) v.upsert(o)
  for (const o of objects) v.upsert(o)
  return v
}

