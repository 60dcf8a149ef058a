/**
 * One concrete request for a match, so that a denial can say what it changes ("GET
 * http://api.example.com/v1 with x-env: prod goes to HTTPRoute team-a/api-a rule 0"): built from
 * the match's exact values and prefixes, traced with the same routing models as `routeguard trace`.
 * A match that only regular expressions describe gives no example (undefined).
 */
import { arr, rec, str } from '../model/object.js'
import { fullMatch } from './regex.js'
import { defaultPort, requestTarget, type TraceRequest, type TraceResult } from './types.js'

/** A host that a (possibly wildcard) hostname covers: `*.example.com` → `any.example.com`; `*` → an address. */
export function exampleHost(hostname: string | undefined): string | undefined {
  if (hostname === undefined || hostname === '*' || hostname === '') return undefined
  return hostname.startsWith('*.') ? `any${hostname.slice(1)}` : hostname
}

/** A request an `HTTPRouteMatch` selects (undefined: the rule's default match). */
export function exampleHttpRouteRequest(raw: unknown, hostname: string | undefined, port: number): TraceRequest | undefined {
  const m = rec(raw)
  const path = rec(m.path)
  const type = str(path.type) ?? 'PathPrefix'
  if (type === 'RegularExpression') return undefined
  const headers: Record<string, string> = {}
  for (const h of arr(m.headers)) {
    if (str(rec(h).type) === 'RegularExpression') return undefined
    headers[str(rec(h).name) ?? ''] = str(rec(h).value) ?? ''
  }
  const query: string[] = []
  for (const q of arr(m.queryParams)) {
    if (str(rec(q).type) === 'RegularExpression') return undefined
    query.push(`${encodeURIComponent(str(rec(q).name) ?? '')}=${encodeURIComponent(str(rec(q).value) ?? '')}`)
  }
  return { scheme: 'http', host: exampleHost(hostname), port, method: str(m.method) ?? 'GET', path: str(path.value) ?? '/', ...(query.length ? { query: query.join('&') } : {}), headers }
}

/**
 * A value an Istio `StringMatch` accepts: its `exact` or `prefix` value; null for a `regex` (no
 * plain example); undefined when it sets none.
 */
export function stringMatchExample(sm: unknown): string | undefined | null {
  const x = rec(sm)
  if (typeof x.exact === 'string') return x.exact
  if (typeof x.prefix === 'string') return x.prefix
  if (typeof x.regex === 'string') return null
  return undefined
}

/**
 * A string RE2 `pattern` matches whole, when a simple one can be read off it: each top-level
 * alternative (`prod|stage` → `prod`) with anchors and `\.`-style escapes taken out, or the
 * pattern without `.*`; each candidate is checked with the pattern itself (RE2 full match).
 * Undefined when none of them matches (a class only a regex describes).
 */
export function regexExample(pattern: string): string | undefined {
  const alternatives: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]
    if (ch === '\\') i++
    else if (ch === '(' || ch === '[') depth++
    else if (ch === ')' || ch === ']') depth--
    else if (ch === '|' && depth === 0) alternatives.push(pattern.slice(start, i)), (start = i + 1)
  }
  alternatives.push(pattern.slice(start))
  const plain = (p: string) => p.replace(/^\^/, '').replace(/\$$/, '').replace(/\.\*/g, '').replace(/\\(.)/g, '$1')
  for (const candidate of [...alternatives.map(plain), plain(pattern), 'x']) {
    if (fullMatch(pattern, candidate)) return candidate
  }
  return undefined
}

/** A value an Istio `StringMatch` accepts, a regex's included when `regexExample` finds one; undefined when none. */
export function stringMatchValue(sm: unknown): string | undefined {
  const v = stringMatchExample(sm)
  if (v !== null) return v
  return regexExample(String(rec(sm).regex))
}

/** A request an Istio `HTTPMatchRequest` selects (undefined match: any request). */
export function exampleIstioRequest(raw: unknown, host: string | undefined, port: number): TraceRequest | undefined {
  const m = rec(raw)
  const value = stringMatchExample
  const uri = value(m.uri)
  const method = value(m.method)
  if (uri === null || method === null) return undefined
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(rec(m.headers))) {
    const x = value(v)
    if (x === null) return undefined
    headers[k] = x ?? 'x'
  }
  const query: string[] = []
  for (const [k, v] of Object.entries(rec(m.queryParams))) {
    const x = value(v)
    if (x === null) return undefined
    query.push(`${encodeURIComponent(k)}=${encodeURIComponent(x ?? '')}`)
  }
  return { scheme: 'http', host: exampleHost(host), port, method: method ?? 'GET', path: uri || '/', ...(query.length ? { query: query.join('&') } : {}), headers }
}

/**
 * `GET http://api.example.com/v1?a=b with x-env: prod` (an address when the request has no host);
 * a connection without HTTP as `tcp://<address>:9000`, `tls://db.example.com:443` (by SNI).
 */
export function describeRequest(req: TraceRequest): string {
  if (req.scheme === 'tcp' || req.scheme === 'udp') return `${req.scheme}://${req.host ?? '<address>'}:${req.port}`
  if (req.scheme === 'tls') return `tls://${req.sni ?? req.host ?? '<address>'}:${req.port}`
  const hdrs = Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`)
  return `${req.method} ${requestURL(req)}${hdrs.length ? ` with ${hdrs.join(', ')}` : ''}`
}

/** `scheme://host[:port]/path?query`, the port only when it is not the scheme's default (`<address>` without a host). */
export function requestURL(req: TraceRequest): string {
  return `${req.scheme}://${req.host ?? '<address>'}${req.port === defaultPort(req.scheme) ? '' : `:${req.port}`}${requestTarget(req.path, req.query)}`
}

/** Where a traced request ends: `goes to HTTPRoute ns/name rule 0`, `is redirected (301)`, `gets 404`. */
export function describeOutcome(r: TraceResult): string {
  if (r.route) return `${r.redirect ? `is redirected (${r.redirect.statusCode}) by` : 'goes to'} ${r.route.kind} ${r.route.namespace}/${r.route.name} rule ${r.route.rule}`
  return `gets ${r.status}`
}
