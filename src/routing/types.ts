/**
 * What `routeguard trace` is asked and what it answers: one request, and the route, rule and
 * backends that serve it, the request the backend receives, the redirect, and every candidate that
 * lost with why. Shared by the Gateway API and Istio routing models (./gateway-api.ts, ./istio.ts).
 */

/** One request as a client sends it. Header names are matched case-insensitively. */
export interface TraceRequest {
  /** `http`, `https`, `grpc`, `ws`; `tls` (passthrough by SNI: TLSRoute); `tcp`, `udp` (by port: TCPRoute, UDPRoute) */
  scheme: string
  /** the Host header / `:authority` without the port; undefined: an address (no hostname matches) */
  host: string | undefined
  /** the port the request is sent to (Gateway: the listener port; mesh: the Service port) */
  port: number
  method: string
  /** the path, without the query */
  path: string
  /** the raw query string, without `?` */
  query?: string
  headers: Record<string, string>
  /** the TLS server name (HTTPS, TLS passthrough) */
  sni?: string
  /** gRPC service and method (GRPCRoute) */
  grpc?: { service: string; method: string }
  /**
   * The host the client connects to, when a Host header names another (curl's `--url
   * http://echo-v2/ -H 'Host: echo-v1'`): in the mesh it picks the Service (GAMMA routes), while
   * `host` (the header) picks the sidecar's virtual host (Istio VirtualServices)
   */
  connect?: string
}

export interface RouteRef {
  kind: string
  namespace: string
  name: string
  /** index of the rule in `spec.rules` (Gateway API) or `spec.http` (Istio) */
  rule: number
  /** index of the match in the rule, or null for a rule without matches */
  match: number | null
}

export interface BackendWorkload {
  kind: string
  namespace: string
  name: string
}

export interface TracedBackend {
  kind: string
  namespace: string
  name: string
  port: number | null
  weight: number
  /** Istio subset, when the destination names one */
  subset?: string
  /** why the backend cannot be used (its share of requests gets 500), when it cannot */
  invalid?: string
  workloads: BackendWorkload[]
  /** the BackendTLSPolicy the Gateway applies to connections to it (`ns/name`), and the SNI it sends */
  tls?: { policy: string; sni: string | undefined }
}

export interface BackendRequest {
  method: string
  /** request-target: the path with its query */
  path: string
  host: string | undefined
  headers: Record<string, string>
  /** the TLS SNI of the Gateway's connection to the backend (a BackendTLSPolicy's hostname), when it uses TLS */
  sni?: string
}

export interface Redirect {
  statusCode: number
  scheme: string
  host: string | undefined
  /** null when the Location carries no port (the scheme's default) */
  port: number | null
  path: string
}

export interface Candidate {
  kind: string
  namespace: string
  name: string
  rule: number | null
  /** `won`, `not-attached`, `hostname`, `no-match`, `outranked`, `shadowed`, `ambiguous` */
  result: string
  why: string
}

export interface TraceResult {
  /** the HTTP status the client gets: 200, 101 (a WebSocket handshake passed on), 3xx (redirect), 404 (no route), 500/503 (no valid backend) */
  status: number
  route: RouteRef | null
  backends: TracedBackend[]
  backendRequest: BackendRequest | null
  redirect: Redirect | null
  /** response headers the route adds, sets or removes (ResponseHeaderModifier) */
  responseHeaders?: { set: Record<string, string>; add: Record<string, string>; remove: string[] }
  /** mirrors: backends that get a copy */
  mirrors?: TracedBackend[]
  /**
   * What the proxy applies beyond the destination, as configured (the trace does not time
   * anything): Gateway API `timeouts.request` / `timeouts.backendRequest`; Istio `timeout`,
   * `retries` and a `fault.delay`.
   */
  policies?: { timeout?: string; backendTimeout?: string; retries?: { attempts?: number; perTryTimeout?: string; retryOn?: string }; delay?: string }
  /** what the request went through: `Gateway ns/name listener L`, `mesh from namespace N to Service ns/name:port` */
  via: string
  candidates: Candidate[]
  /** when two configurations claim the request and the data plane's choice is not defined */
  ambiguous?: string
}

/**
 * Is `req` a WebSocket opening handshake (RFC 6455 §4.1: `Upgrade: websocket` and a `Connection`
 * header naming `upgrade`), or a `ws://`/`wss://` URL (which a client sends as one)?
 */
export function isWebSocketUpgrade(req: TraceRequest): boolean {
  if (req.scheme === 'ws' || req.scheme === 'wss') return true
  const upgrade = header(req.headers, 'upgrade')
  const connection = header(req.headers, 'connection')
  return upgrade?.trim().toLowerCase() === 'websocket' && (connection ?? '').toLowerCase().split(',').some((t) => t.trim() === 'upgrade')
}

/**
 * The status a forwarded request gets: 101 Switching Protocols for a WebSocket handshake (Istio
 * turns on Envoy's `websocket` upgrade on every HTTP route of gateways and sidecars; Gateway API
 * HTTPRouteBackendProtocolWebSocket), 200 otherwise. A GRPCRoute carries no upgrade (HTTP/2).
 */
export function forwardedStatus(req: TraceRequest, routeKind: string): 101 | 200 {
  return routeKind !== 'GRPCRoute' && isWebSocketUpgrade(req) ? 101 : 200
}

/** A redirect's Location: `https://host[:port]/path` (the port only when the Location has one). */
export function redirectLocation(r: Redirect): string {
  return `${r.scheme}://${r.host ?? ''}${r.port ? `:${r.port}` : ''}${r.path}`
}

/** A redirect as a client reads it: `301 https://host[:port]/path`. */
export function describeRedirect(r: Redirect): string {
  return `${r.statusCode} ${redirectLocation(r)}`
}

/**
 * The backends a forwarded request can reach (valid, weight above 0), each with its share of the
 * requests in per cent of their total weight, rounded to a whole number.
 */
export function backendShares(r: TraceResult): { backend: TracedBackend; percent: number }[] {
  const usable = r.backends.filter((b) => !b.invalid && b.weight > 0)
  const total = usable.reduce((n, b) => n + b.weight, 0) || 1
  return usable.map((backend) => ({ backend, percent: Math.round((100 * backend.weight) / total) }))
}

/** The port a scheme implies when a URL names none: 443 for `https`/`wss`, else 80. */
export function defaultPort(scheme: string): number {
  return scheme === 'https' || scheme === 'wss' || scheme === 'tls' ? 443 : 80
}

/** A request-target: `path` with `?query` when there is one. */
export function requestTarget(path: string, query: string | undefined): string {
  return query ? `${path}?${query}` : path
}

/** The request as the backend gets it when nothing rewrites it. */
export function unchanged(req: TraceRequest): BackendRequest {
  return { method: req.method, path: requestTarget(req.path, req.query), host: req.host, headers: { ...req.headers } }
}

/** Sets header `name` (replacing it in any case) in place. */
export function setHeader(headers: Record<string, string>, name: string, value: string): void {
  removeHeader(headers, name)
  headers[name] = value
}

/** Appends `value` to header `name` (comma-joined, as a proxy appends), keeping the case it has. */
export function addHeader(headers: Record<string, string>, name: string, value: string): void {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase())
  if (key === undefined) headers[name] = value
  else headers[key] = `${headers[key]},${value}`
}

/** Removes header `name` in any case, in place. */
export function removeHeader(headers: Record<string, string>, name: string): void {
  const lower = name.toLowerCase()
  for (const k of Object.keys(headers)) if (k.toLowerCase() === lower) delete headers[k]
}

/** The header named `name` (any case), or undefined. */
export function header(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase()
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v
  return undefined
}

/** The query parameter `name` (exact name, first occurrence), or undefined. */
export function queryParam(query: string | undefined, name: string): string | undefined {
  if (!query) return undefined
  for (const part of query.split('&')) {
    const eq = part.indexOf('=')
    const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq))
    if (k === name) return decodeURIComponent(eq < 0 ? '' : part.slice(eq + 1))
  }
  return undefined
}
