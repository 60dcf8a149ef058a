/**
 * Facts about Istio objects (VirtualService, Istio Gateway) that rules and indexes share.
 * Derived once per object (memoised by identity) from untrusted input: wrong types read as absent.
 *
 * Semantics follow Istio's analyzers: `analyzers/util/exportto.go`, `util/hosts.go`,
 * `virtualservice/conflictingmeshgatewayhosts.go`, `gateway/conflictinggateway.go`.
 */
import { joinFields } from './text.js'
import { arr, canonicalJSON, type Facts, factsOf, type K8sObject, lengthPrefixed, nameOf, nsOf, num, rec, str, stringMap, strs } from './object.js'
import { toFQDN } from './hosts.js'

export const MESH_GATEWAY = 'mesh'

/**
 * Namespaces Istio's analyzers treat as the platform's own and skip (`util.IsSystemNamespace`,
 * which is `inject.IgnoredNamespaces`: the namespaces sidecar injection never touches).
 */
export const SYSTEM_NAMESPACES: ReadonlySet<string> = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'])
/** exportTo scope meaning "every namespace". */
export const PUBLIC_SCOPE = '*'

export interface VirtualServiceFacts {
  namespace: string
  name: string
  /** `spec.hosts` as written */
  hosts: string[]
  /** bound to the mesh: no `gateways`, or the literal `mesh` among them */
  mesh: boolean
  /** gateways other than `mesh`, resolved to `namespace/name` */
  gateways: string[]
  /** exportTo scopes: [`*`] or a list of namespaces (`.` → own namespace), de-duplicated when short */
  scopes: string[]
  http: Record<string, unknown>[]
  tcp: Record<string, unknown>[]
  tls: Record<string, unknown>[]
}

export const virtualService: Facts<VirtualServiceFacts> = factsOf(computeVirtualService)

function computeVirtualService(obj: K8sObject): VirtualServiceFacts {
  const spec = rec(obj.spec)
  const namespace = nsOf(obj)
  const rawGateways = strs(spec.gateways)
  return {
    namespace,
    name: nameOf(obj),
    hosts: strs(spec.hosts),
    mesh: rawGateways.length === 0 || rawGateways.includes(MESH_GATEWAY),
    gateways: dedupeShort(rawGateways.filter((g) => g !== MESH_GATEWAY).map((g) => resolveGatewayName(g, namespace))),
    scopes: exportScopes(strs(spec.exportTo), namespace),
    http: arr(spec.http).map(rec),
    tcp: arr(spec.tcp).map(rec),
    tls: arr(spec.tls).map(rec),
  }
}

/**
 * Istio's exportTo scopes for conflict analysis: empty or containing `*` → [`*`] (the mesh-wide
 * default is ignored, as the analyzer ignores it); otherwise each entry, `.` replaced by the
 * object's namespace, duplicates removed.
 */
export function exportScopes(exportTo: string[], namespace: string): string[] {
  if (exportTo.length === 0 || exportTo.includes(PUBLIC_SCOPE)) return [PUBLIC_SCOPE]
  return dedupeShort(exportTo.map((e) => (e === '.' ? namespace : e)))
}

/**
 * `items` without duplicates when it is short (real gateway, host and exportTo lists are a few
 * entries). A long one, which only hostile input has, is kept as it is: every reader treats
 * these lists as sets (conflict sets, postings removed by object), and hashing 100k strings
 * again on every review is what made such a review slow.
 */
export function dedupeShort(items: string[]): string[] {
  return items.length <= 64 ? [...new Set(items)] : items
}

/** True when two scope lists share a namespace, or either is public. */
export function scopesOverlap(a: readonly string[], b: readonly string[]): boolean {
  if (a.includes(PUBLIC_SCOPE) || b.includes(PUBLIC_SCOPE)) return true
  const [small, large] = a.length <= b.length ? [a, b] : [b, a]
  if (small.length <= 8) return small.some((s) => large.includes(s))
  // linear, not |a| × |b|: exportTo lists come from users
  const set = new Set(large)
  return small.some((s) => set.has(s))
}

/**
 * A VirtualService `gateways` entry (top level or `http[].match[].gateways`) as `namespace/name`,
 * exactly as pilot resolves it (`resolveGatewayName` in `pilot/pkg/model/virtualservice.go`):
 * - `ns/name` is kept; `./name` is `<vs-namespace>/name`;
 * - a short `name` lives in the VirtualService's namespace;
 * - the legacy DNS form `name.ns` or `name.ns.svc.cluster.local` is `ns/name` (the label after
 *   the first dot is the namespace).
 * `mesh` is not a gateway; callers leave it out before resolving.
 */
export function resolveGatewayName(gateway: string, vsNamespace: string): string {
  const slash = gateway.indexOf('/')
  if (slash >= 0) return gateway.slice(0, slash) === '.' ? `${vsNamespace}/${gateway.slice(slash + 1)}` : gateway
  const dot = gateway.indexOf('.')
  if (dot < 0) return `${vsNamespace}/${gateway}`
  const rest = gateway.slice(dot + 1)
  const next = rest.indexOf('.')
  return `${next < 0 ? rest : rest.slice(0, next)}/${gateway.slice(0, dot)}`
}

/** A VirtualService `gateways` entry as the (namespace, name) of the Gateway it names, via `resolveGatewayName`. */
export function gatewayRef(gateway: string, vsNamespace: string): { namespace: string; name: string } {
  const full = resolveGatewayName(gateway, vsNamespace)
  const slash = full.indexOf('/')
  return { namespace: full.slice(0, slash), name: full.slice(slash + 1) }
}

const FQDNS = new WeakMap<VirtualServiceFacts, string[]>()

/**
 * The FQDN of each host of a VirtualService (short names expanded in its namespace), without
 * duplicates (`dedupeShort`). Kept per facts object: three rules and the index ask for it (do not modify).
 */
export function vsFQDNs(f: VirtualServiceFacts): string[] {
  let fqdns = FQDNS.get(f)
  if (!fqdns) FQDNS.set(f, (fqdns = dedupeShort(f.hosts.map((h) => toFQDN(h, f.namespace)))))
  return fqdns
}

/**
 * A match compared by value, as Istio's `asJSON`: the JSON of the match without its `name`.
 * The catch-all (a rule without `match`) is the string `catch-all`.
 */
export function matchSignature(match: unknown): string {
  const m = { ...rec(match) }
  delete m.name
  return canonicalJSON(m)
}

export const CATCH_ALL = 'catch-all'

/** Every match signature of an HTTP rule; [`catch-all`] when the rule has no match. */
export function httpRuleSignatures(rule: Record<string, unknown>): { sig: string; index: number | undefined }[] {
  const matches = arr(rule.match)
  if (matches.length === 0) return [{ sig: CATCH_ALL, index: undefined }]
  return matches.map((m, index) => ({ sig: matchSignature(m), index }))
}

/** One HTTP match of a VirtualService: its rule, its index in `match` (none: catch-all), its signature. */
export interface HttpMatchSig {
  ruleIndex: number
  index: number | undefined
  sig: string
}

const HTTP_SIGS = new WeakMap<VirtualServiceFacts, HttpMatchSig[]>()

/** `httpRuleSignatures` of every rule of a VirtualService, computed once per facts object (do not modify). */
export function vsHttpSignatures(f: VirtualServiceFacts): HttpMatchSig[] {
  let sigs = HTTP_SIGS.get(f)
  if (!sigs) {
    sigs = []
    for (let ruleIndex = 0; ruleIndex < f.http.length; ruleIndex++) {
      for (const { sig, index } of httpRuleSignatures(f.http[ruleIndex]!)) sigs.push({ ruleIndex, index, sig })
    }
    HTTP_SIGS.set(f, sigs)
  }
  return sigs
}

/**
 * (gateway, host, match) combinations of one VirtualService that the gateway-route index holds
 * and RG0101 looks up, at most. Real VirtualServices have a few gateways, tens of hosts and
 * matches; a hostile one of 25 KB could multiply to millions. Past the bound the index and the
 * rule skip the rest (documented limit: such a VirtualService is not compared in full).
 */
export const MAX_GATEWAY_FANOUT = 50_000

/** Calls `fn` for each (gateway, host, match) of `f`, MAX_GATEWAY_FANOUT at most; false when it stopped early. */
export function forEachGatewayMatch(f: VirtualServiceFacts, fn: (gateway: string, host: string, m: HttpMatchSig) => void): boolean {
  const hosts = vsFQDNs(f)
  const sigs = vsHttpSignatures(f)
  let n = 0
  for (const gateway of f.gateways) {
    for (const host of hosts) {
      for (const m of sigs) {
        if (++n > MAX_GATEWAY_FANOUT) return false
        fn(gateway, host, m)
      }
    }
  }
  return true
}

/** Key of the gateway-route index: (gateway, host, match signature), length-prefixed so that no part can run into another. */
export function gatewayMatchKey(gateway: string, host: string, sig: string): string {
  return lengthPrefixed([gateway, host, sig])
}

/** A short human form of a VirtualService HTTP match (`uri prefix /api, method exact GET`). */
export function describeHttpMatch(match: unknown): string {
  if (match === undefined) return 'any request (no match)'
  const m = rec(match)
  const parts: string[] = []
  for (const field of ['uri', 'scheme', 'method', 'authority']) {
    const sm = rec(m[field])
    for (const [k, v] of Object.entries(sm)) parts.push(`${field} ${k} ${String(v)}`)
  }
  for (const field of ['headers', 'queryParams', 'withoutHeaders']) {
    for (const [name, sm] of Object.entries(rec(m[field]))) {
      for (const [k, v] of Object.entries(rec(sm))) parts.push(`${field === 'withoutHeaders' ? 'without header' : field === 'headers' ? 'header' : 'query'} ${name} ${k} ${String(v)}`)
    }
  }
  if (num(m.port) !== undefined) parts.push(`port ${m.port}`)
  return parts.length ? joinFields(parts) : 'any request'
}

export interface IstioGatewayServer {
  index: number
  /** port number; 0 when the server has none (Istio reads a missing port as 0) */
  port: number
  bind: string
  hosts: string[]
  /** the server takes HTTPS requests: it has `tls`, or its port protocol is HTTPS */
  https: boolean
}

export interface IstioGatewayFacts {
  namespace: string
  name: string
  selector: Record<string, string>
  /** Kubernetes' `labels.SelectorFromSet(sel).String()`: `k=v` pairs sorted by key, comma-joined */
  selectorString: string
  servers: IstioGatewayServer[]
}

export const istioGateway: Facts<IstioGatewayFacts> = factsOf(computeIstioGateway)

function computeIstioGateway(obj: K8sObject): IstioGatewayFacts {
  const spec = rec(obj.spec)
  const selector = stringMap(spec.selector)
  return {
    namespace: nsOf(obj),
    name: nameOf(obj),
    selector,
    selectorString: selectorString(selector),
    servers: arr(spec.servers).map((s, index) => {
      const server = rec(s)
      return { index, port: num(rec(server.port).number) ?? 0, bind: str(server.bind) ?? '', hosts: strs(server.hosts), https: server.tls !== undefined || /^HTTPS$/i.test(str(rec(server.port).protocol) ?? '') }
    }),
  }
}

/**
 * The certificate of an Istio Gateway server's `tls`, as a comparable key, after Istio's
 * `haveSameCertificate` (`analyzers/gateway/certificate.go`): the `credentialName`; without one,
 * `serverCertificate` with `privateKey` (both set); undefined when the server names neither.
 */
export function serverCertificateKey(tls: Record<string, unknown>): string | undefined {
  const cn = str(tls.credentialName)
  if (cn) return lengthPrefixed(['credentialName', cn])
  const cert = str(tls.serverCertificate)
  const key = str(tls.privateKey)
  return cert && key ? lengthPrefixed(['file', cert, key]) : undefined
}

export function selectorString(sel: Record<string, string>): string {
  return Object.keys(sel)
    .sort()
    .map((k) => `${k}=${sel[k]}`)
    .join(',')
}

/** Does a label set satisfy an equality selector? An empty selector selects everything. */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false
  return true
}
