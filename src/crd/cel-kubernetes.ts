/**
 * The Kubernetes CEL libraries the API server adds to CEL for CRD validation rules
 * (`k8s.io/apiserver/pkg/cel/library`), registered on cel-js's Environment (`registerKubernetesLibraries`):
 *
 * - IP and CIDR (`ip.go`, `cidr.go`): `isIP(string)`, `ip(string)`, `ip.isCanonical(string)`,
 *   `isCIDR(string)`, `cidr(string)`; on an IP `family()`, `isUnspecified()`, `isLoopback()`,
 *   `isLinkLocalMulticast()`, `isLinkLocalUnicast()`, `isGlobalUnicast()`, `string()`; on a CIDR
 *   `containsIP(IP|string)`, `containsCIDR(CIDR|string)`, `ip()`, `masked()`, `prefixLength()`,
 *   `string()`. As Go's `netip` with Kubernetes' rules: no zones, no IPv4-mapped IPv6, no
 *   leading zeros in IPv4.
 * - URL (`urls.go`, Go's `url.ParseRequestURI`): `url(string)`, `isURL(string)`; `getScheme()`,
 *   `getHost()`, `getHostname()`, `getPort()`, `getEscapedPath()`, `getQuery()` (map of lists).
 * - Quantity (`quantity.go`): `quantity(string)`, `isQuantity(string)`; `isInteger()`,
 *   `asInteger()`, `asApproximateFloat()`, `sign()`, `compareTo()`, `isGreaterThan()`,
 *   `isLessThan()`, `add()`, `sub()`. Values are held as doubles (exact for the integers and
 *   decimals rules compare; the API server's is arbitrary precision).
 * - Format (`format.go`): `format.named(string)` and `format.dns1123Label()`, `dns1123Subdomain()`,
 *   `dns1035Label()`, `qualifiedName()`, `labelValue()`, `uri()`, `uuid()`, `byte()`, `date()`,
 *   `datetime()`; `validate(string)` returns an optional list of errors (none when valid).
 * - Lists (`lists.go`): `isSorted()`, `sum()`, `min()`, `max()`, `indexOf()`, `lastIndexOf()`;
 *   and cel-go's `sets.contains`, `sets.equivalent`, `sets.intersects`.
 * - Regex (`regex.go`): `find(string)`, `findAll(string[, int])`, on RE2 (routing/regex.ts).
 *
 * Every function reads only its arguments and is linear in them; a malformed argument is a CEL
 * evaluation error (the rule fails), as in the API server.
 */
import { type Environment, Optional } from '@marcbachmann/cel-js'
import { findMatches, fullMatch } from '../routing/regex.js'

// ---------------------------------------------------------------- IP and CIDR

/** An IP address (the IP library's `net.IP`): 4 bytes (IPv4) or 16 (IPv6); `toString` is RFC 5952 canonical. */
export class IPAddress {
  constructor(readonly bytes: Uint8Array) {}
  get family(): 4 | 6 {
    return this.bytes.length === 4 ? 4 : 6
  }
  toString(): string {
    if (this.bytes.length === 4) return [...this.bytes].join('.')
    const groups = Array.from({ length: 8 }, (_, i) => (this.bytes[2 * i]! << 8) | this.bytes[2 * i + 1]!)
    // RFC 5952: the longest run of two or more zero groups becomes ::
    let best = -1
    let bestLen = 0
    for (let i = 0; i < 8; ) {
      if (groups[i] !== 0) {
        i++
        continue
      }
      let j = i
      while (j < 8 && groups[j] === 0) j++
      if (j - i > bestLen && j - i >= 2) (best = i), (bestLen = j - i)
      i = j
    }
    const hex = groups.map((g) => g.toString(16))
    if (best < 0) return hex.join(':')
    return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
  }
}

function parseIPv4(s: string): Uint8Array | undefined {
  const parts = s.split('.')
  if (parts.length !== 4) return undefined
  const out = new Uint8Array(4)
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p.startsWith('0')) || Number(p) > 255) return undefined
    out[i] = Number(p)
  }
  return out
}

function parseIPv6(s: string): Uint8Array | undefined {
  if (s.includes('%')) return undefined // zones are not allowed
  const halves = s.split('::')
  if (halves.length > 2) return undefined
  const groups = (part: string): number[] | undefined => {
    if (part === '') return []
    const out: number[] = []
    const items = part.split(':')
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = parseIPv4(item)
        if (!v4) return undefined
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!)
      } else if (/^[0-9a-fA-F]{1,4}$/.test(item)) out.push(parseInt(item, 16))
      else return undefined
    }
    return out
  }
  const head = groups(halves[0]!)
  const tail = halves.length === 2 ? groups(halves[1]!) : []
  if (!head || !tail) return undefined
  const missing = 8 - head.length - tail.length
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined
  const all = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail]
  const out = new Uint8Array(16)
  all.forEach((g, i) => ((out[2 * i] = g >> 8), (out[2 * i + 1] = g & 0xff)))
  return out
}

/** Kubernetes' `ip()` parsing; undefined when the string is no IP it accepts (IPv4-mapped IPv6 is refused). */
export function parseIP(s: string): IPAddress | undefined {
  const bytes = s.includes(':') ? parseIPv6(s) : parseIPv4(s)
  if (!bytes) return undefined
  if (bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return undefined
  return new IPAddress(bytes)
}

/** A CIDR (the library's `net.IPPrefix`): an address and a prefix length in bits (0–32 or 0–128). */
export class CIDRPrefix {
  constructor(
    readonly ip: IPAddress,
    readonly prefixLength: number,
  ) {}
  masked(): CIDRPrefix {
    const bytes = this.ip.bytes.slice()
    for (let bit = this.prefixLength; bit < bytes.length * 8; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7))
    return new CIDRPrefix(new IPAddress(bytes), this.prefixLength)
  }
  containsIP(ip: IPAddress): boolean {
    if (ip.family !== this.ip.family) return false
    for (let bit = 0; bit < this.prefixLength; bit++) {
      const mask = 0x80 >> (bit & 7)
      if ((ip.bytes[bit >> 3]! & mask) !== (this.ip.bytes[bit >> 3]! & mask)) return false
    }
    return true
  }
  containsCIDR(other: CIDRPrefix): boolean {
    return other.ip.family === this.ip.family && other.prefixLength >= this.prefixLength && this.containsIP(other.ip)
  }
  toString(): string {
    return `${this.ip}/${this.prefixLength}`
  }
}

/** `addr/len` as Kubernetes' `cidr()` reads it (no leading zeros in `len`); undefined when it is none. */
export function parseCIDR(s: string): CIDRPrefix | undefined {
  const slash = s.indexOf('/')
  if (slash < 0) return undefined
  const ip = parseIP(s.slice(0, slash))
  const len = s.slice(slash + 1)
  if (!ip || !/^\d{1,3}$/.test(len) || (len.length > 1 && len.startsWith('0'))) return undefined
  const n = Number(len)
  if (n > ip.bytes.length * 8) return undefined
  return new CIDRPrefix(ip, n)
}

function ipOrThrow(s: string): IPAddress {
  const ip = parseIP(s)
  if (!ip) throw new Error(`IP Address ${JSON.stringify(s)} parse error during conversion from string`)
  return ip
}

function cidrOrThrow(s: string): CIDRPrefix {
  const c = parseCIDR(s)
  if (!c) throw new Error(`network address ${JSON.stringify(s)} parse error during conversion from string`)
  return c
}

const inRange = (ip: IPAddress, cidr: string) => parseCIDR(cidr)!.containsIP(ip)

// ---------------------------------------------------------------- URL

/** A URL as Go's `url.ParseRequestURI` reads it: an absolute URI, or an absolute path. */
export class RequestURL {
  constructor(
    readonly scheme: string,
    readonly host: string,
    readonly escapedPath: string,
    readonly rawQuery: string,
  ) {}
  hostname(): string {
    const h = this.host
    if (h.startsWith('[')) return h.slice(1, h.indexOf(']'))
    const colon = h.lastIndexOf(':')
    return colon < 0 ? h : h.slice(0, colon)
  }
  port(): string {
    const h = this.host
    const end = h.startsWith('[') ? h.indexOf(']') + 1 : 0
    const colon = h.indexOf(':', end)
    return colon < 0 ? '' : h.slice(colon + 1)
  }
  query(): Map<string, string[]> {
    const out = new Map<string, string[]>()
    if (!this.rawQuery) return out
    for (const pair of this.rawQuery.split('&')) {
      if (!pair) continue
      const eq = pair.indexOf('=')
      const decode = (x: string) => {
        try {
          return decodeURIComponent(x.replace(/\+/g, ' '))
        } catch {
          return x
        }
      }
      const k = decode(eq < 0 ? pair : pair.slice(0, eq))
      const v = decode(eq < 0 ? '' : pair.slice(eq + 1))
      out.set(k, [...(out.get(k) ?? []), v])
    }
    return out
  }
}

/** Go's `url.ParseRequestURI`, for what the URL library reads; undefined where Go returns an error. */
export function parseRequestURL(s: string): RequestURL | undefined {
  if (/[\x00-\x20\x7f]/.test(s)) return undefined
  const q = s.indexOf('?')
  const beforeQuery = q < 0 ? s : s.slice(0, q)
  const rawQuery = q < 0 ? '' : s.slice(q + 1)
  if (beforeQuery.startsWith('/')) return beforeQuery.startsWith('//') ? parseAuthority('', beforeQuery.slice(2), rawQuery) : new RequestURL('', '', beforeQuery, rawQuery)
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(beforeQuery)
  if (!scheme) return undefined
  const rest = beforeQuery.slice(scheme[0].length)
  if (rest.startsWith('//')) return parseAuthority(scheme[1]!.toLowerCase(), rest.slice(2), rawQuery)
  // opaque (mailto:x) or rooted path without authority
  return new RequestURL(scheme[1]!.toLowerCase(), '', rest.startsWith('/') ? rest : '', rawQuery)
}

function parseAuthority(scheme: string, rest: string, rawQuery: string): RequestURL | undefined {
  const slash = rest.indexOf('/')
  let authority = slash < 0 ? rest : rest.slice(0, slash)
  const path = slash < 0 ? '' : rest.slice(slash)
  const at = authority.lastIndexOf('@')
  if (at >= 0) authority = authority.slice(at + 1)
  // host: a bracketed IPv6 literal or reg-name characters; port: digits
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(:(\d*))?$/.exec(authority)
  if (!m) return undefined
  if (m[1]!.startsWith('[') && !parseIPv6(m[1]!.slice(1, -1))) return undefined
  return new RequestURL(scheme, authority, path, rawQuery)
}

// ---------------------------------------------------------------- Quantity

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 }
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 }

/** A resource quantity: its value as a double (bytes, cores, … as written: `1Ki` is 1024) and its text. */
export class KubeQuantity {
  constructor(
    readonly value: number,
    readonly text: string,
  ) {}
}

/** `resource.ParseQuantity`: a signed decimal number and a binary-SI, decimal-SI or exponent suffix. */
export function parseQuantity(s: string): KubeQuantity | undefined {
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/.exec(s)
  if (!m) return undefined
  const n = Number(m[1])
  const suffix = m[2] ?? ''
  const scale = BINARY[suffix] ?? DECIMAL[suffix] ?? (/^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : undefined)
  if (scale === undefined || !Number.isFinite(n * scale)) return undefined
  return new KubeQuantity(n * scale, s)
}

function quantityOrThrow(s: string): KubeQuantity {
  const q = parseQuantity(s)
  if (!q) throw new Error(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': ${JSON.stringify(s)}`)
  return q
}

// ---------------------------------------------------------------- Format

/** Kubernetes' named formats, each a function from a string to its errors (empty: valid). */
const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?'
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'
const FORMATS: Record<string, (s: string) => string[]> = {
  dns1123Label: (s) => (s.length <= 63 && fullMatch(DNS_LABEL, s) ? [] : ["a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (at most 63)"]),
  dns1123Subdomain: (s) => (s.length <= 253 && fullMatch(`${DNS_LABEL}(\\.${DNS_LABEL})*`, s) ? [] : ["a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (at most 253)"]),
  dns1035Label: (s) => (s.length <= 63 && fullMatch('[a-z]([-a-z0-9]*[a-z0-9])?', s) ? [] : ["a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (at most 63)"]),
  qualifiedName: (s) => {
    const slash = s.lastIndexOf('/')
    const prefix = slash < 0 ? undefined : s.slice(0, slash)
    const name = slash < 0 ? s : s.slice(slash + 1)
    const errs: string[] = []
    if (prefix !== undefined && FORMATS.dns1123Subdomain!(prefix).length) errs.push('prefix part must be a DNS subdomain')
    if (name.length > 63 || !fullMatch(QUALIFIED_NAME, name)) errs.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63)")
    return errs
  },
  labelValue: (s) => (s.length <= 63 && (s === '' || fullMatch(QUALIFIED_NAME, s)) ? [] : ["a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63)"]),
  uri: (s) => (parseRequestURL(s) ? [] : ['must be a valid URI']),
  uuid: (s) => (fullMatch('[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', s) ? [] : ['does not match the UUID format']),
  byte: (s) => (fullMatch('(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?', s) ? [] : ['invalid base64']),
  date: (s) => (fullMatch('\\d{4}-\\d{2}-\\d{2}', s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) ? [] : ['must be a date (YYYY-MM-DD)']),
  datetime: (s) => (fullMatch('\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([Zz]|[+-]\\d{2}:\\d{2})', s) && !Number.isNaN(Date.parse(s)) ? [] : ['must be an RFC 3339 date-time']),
}

class IPNamespace {}
class SetsNamespace {}

/** One of the format library's named formats (`FORMATS`), by name. */
export class NamedFormat {
  constructor(readonly name: string) {}
}
class FormatNamespace {}

// ---------------------------------------------------------------- lists

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return Number(a) - Number(b)
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b)
  throw new Error('no such overload: values are not comparable')
}

function equal(a: unknown, b: unknown): boolean {
  if (typeof a === 'bigint' || typeof b === 'bigint') return (typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number') && Number(a) === Number(b)
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]))
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a)
    return ka.length === Object.keys(b).length && ka.every((k) => equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  }
  return a === b
}

/** Registers every library above on `env` (which must enable optional types for `format`). */
export function registerKubernetesLibraries(env: Environment): Environment {
  env
    .registerType('IP', IPAddress)
    .registerType('CIDR', CIDRPrefix)
    .registerType('URL', RequestURL)
    .registerType('Quantity', KubeQuantity)
    .registerType('Format', NamedFormat)
    .registerType('FormatNamespace', FormatNamespace)
    .registerConstant('format', 'FormatNamespace', new FormatNamespace())
  const fn = (signature: string, handler: (...args: any[]) => unknown) => env.registerFunction(signature, handler)
  // IP
  fn('isIP(string): bool', (s: string) => parseIP(s) !== undefined)
  fn('ip(string): IP', ipOrThrow)
  fn('string(IP): string', (ip: IPAddress) => ip.toString())
  fn('IP.family(): int', (ip: IPAddress) => BigInt(ip.family))
  fn('IP.isUnspecified(): bool', (ip: IPAddress) => ip.bytes.every((b) => b === 0))
  fn('IP.isLoopback(): bool', (ip: IPAddress) => (ip.family === 4 ? ip.bytes[0] === 127 : ip.bytes.slice(0, 15).every((b) => b === 0) && ip.bytes[15] === 1))
  fn('IP.isLinkLocalMulticast(): bool', (ip: IPAddress) => (ip.family === 4 ? inRange(ip, '224.0.0.0/24') : ip.bytes[0] === 0xff && (ip.bytes[1]! & 0x0f) === 0x02))
  fn('IP.isLinkLocalUnicast(): bool', (ip: IPAddress) => inRange(ip, ip.family === 4 ? '169.254.0.0/16' : 'fe80::/10'))
  fn('IP.isGlobalUnicast(): bool', (ip: IPAddress) => {
    const unspecified = ip.bytes.every((b) => b === 0)
    if (ip.family === 4) return !unspecified && ip.bytes[0] !== 127 && !inRange(ip, '224.0.0.0/4') && !inRange(ip, '169.254.0.0/16') && !ip.bytes.every((b) => b === 255)
    return !unspecified && !inRange(ip, '::1/128') && !inRange(ip, 'ff00::/8') && !inRange(ip, 'fe80::/10')
  })
  env.registerFunction('IP.string(): string', (ip: IPAddress) => ip.toString())
  // `ip.isCanonical(s)`: `ip` is also a namespace (CEL keeps functions and identifiers apart)
  env.registerType('IPNamespace', IPNamespace)
  env.registerConstant('ip', 'IPNamespace', new IPNamespace())
  fn('IPNamespace.isCanonical(string): bool', (_: unknown, s: string) => ipOrThrow(s).toString() === s)
  // CIDR
  fn('isCIDR(string): bool', (s: string) => parseCIDR(s) !== undefined)
  fn('cidr(string): CIDR', cidrOrThrow)
  fn('CIDR.containsIP(IP): bool', (c: CIDRPrefix, ip: IPAddress) => c.containsIP(ip))
  fn('CIDR.containsIP(string): bool', (c: CIDRPrefix, ip: string) => c.containsIP(ipOrThrow(ip)))
  fn('CIDR.containsCIDR(CIDR): bool', (c: CIDRPrefix, o: CIDRPrefix) => c.containsCIDR(o))
  fn('CIDR.containsCIDR(string): bool', (c: CIDRPrefix, o: string) => c.containsCIDR(cidrOrThrow(o)))
  fn('CIDR.ip(): IP', (c: CIDRPrefix) => c.ip)
  fn('CIDR.masked(): CIDR', (c: CIDRPrefix) => c.masked())
  fn('CIDR.prefixLength(): int', (c: CIDRPrefix) => BigInt(c.prefixLength))
  fn('CIDR.string(): string', (c: CIDRPrefix) => c.toString())
  fn('string(CIDR): string', (c: CIDRPrefix) => c.toString())
  // URL
  fn('isURL(string): bool', (s: string) => parseRequestURL(s) !== undefined)
  fn('url(string): URL', (s: string) => {
    const u = parseRequestURL(s)
    if (!u) throw new Error(`URL parse error during conversion from string: ${JSON.stringify(s)}`)
    return u
  })
  fn('URL.getScheme(): string', (u: RequestURL) => u.scheme)
  fn('URL.getHost(): string', (u: RequestURL) => u.host)
  fn('URL.getHostname(): string', (u: RequestURL) => u.hostname())
  fn('URL.getPort(): string', (u: RequestURL) => u.port())
  fn('URL.getEscapedPath(): string', (u: RequestURL) => u.escapedPath)
  fn('URL.getQuery(): map', (u: RequestURL) => u.query())
  // Quantity
  fn('isQuantity(string): bool', (s: string) => parseQuantity(s) !== undefined)
  fn('quantity(string): Quantity', quantityOrThrow)
  fn('Quantity.isInteger(): bool', (q: KubeQuantity) => Number.isInteger(q.value))
  fn('Quantity.asInteger(): int', (q: KubeQuantity) => {
    if (!Number.isSafeInteger(q.value)) throw new Error('cannot convert value to integer')
    return BigInt(q.value)
  })
  fn('Quantity.asApproximateFloat(): double', (q: KubeQuantity) => q.value)
  fn('Quantity.sign(): int', (q: KubeQuantity) => BigInt(Math.sign(q.value)))
  fn('Quantity.compareTo(Quantity): int', (a: KubeQuantity, b: KubeQuantity) => BigInt(Math.sign(a.value - b.value)))
  fn('Quantity.isGreaterThan(Quantity): bool', (a: KubeQuantity, b: KubeQuantity) => a.value > b.value)
  fn('Quantity.isLessThan(Quantity): bool', (a: KubeQuantity, b: KubeQuantity) => a.value < b.value)
  fn('Quantity.add(Quantity): Quantity', (a: KubeQuantity, b: KubeQuantity) => new KubeQuantity(a.value + b.value, String(a.value + b.value)))
  fn('Quantity.add(int): Quantity', (a: KubeQuantity, b: bigint) => new KubeQuantity(a.value + Number(b), String(a.value + Number(b))))
  fn('Quantity.sub(Quantity): Quantity', (a: KubeQuantity, b: KubeQuantity) => new KubeQuantity(a.value - b.value, String(a.value - b.value)))
  fn('Quantity.sub(int): Quantity', (a: KubeQuantity, b: bigint) => new KubeQuantity(a.value - Number(b), String(a.value - Number(b))))
  // Format
  for (const name of Object.keys(FORMATS)) fn(`FormatNamespace.${name}(): Format`, () => new NamedFormat(name))
  fn('FormatNamespace.named(string): optional<Format>', (_: unknown, name: string) => (FORMATS[name] ? Optional.of(new NamedFormat(name)) : Optional.none()))
  fn('Format.validate(string): optional<list<string>>', (f: NamedFormat, s: string) => {
    const errs = FORMATS[f.name]!(s)
    return errs.length ? Optional.of(errs) : Optional.none()
  })
  // CEL's heterogeneous equality: values of different types are not equal, so an optional never
  // equals null (a rule `format.x().validate(s) == null` is false, as cel-go evaluates it)
  env.registerOperator('optional<dyn> == null', () => false)
  // lists
  fn('list.isSorted(): bool', (l: unknown[]) => l.every((x, i) => i === 0 || compare(l[i - 1], x) <= 0))
  fn('list.sum(): dyn', (l: unknown[]) => (l.length === 0 ? 0n : l.reduce((a, b) => (typeof a === 'bigint' && typeof b === 'bigint' ? a + b : Number(a) + Number(b)))))
  fn('list.min(): dyn', (l: unknown[]) => {
    if (!l.length) throw new Error('min called on empty list')
    return l.reduce((a, b) => (compare(b, a) < 0 ? b : a))
  })
  fn('list.max(): dyn', (l: unknown[]) => {
    if (!l.length) throw new Error('max called on empty list')
    return l.reduce((a, b) => (compare(b, a) > 0 ? b : a))
  })
  fn('list.indexOf(dyn): int', (l: unknown[], x: unknown) => BigInt(l.findIndex((y) => equal(y, x))))
  fn('list.lastIndexOf(dyn): int', (l: unknown[], x: unknown) => BigInt(l.findLastIndex((y) => equal(y, x))))
  // cel-go sets extension
  env.registerType('SetsNamespace', SetsNamespace)
  env.registerConstant('sets', 'SetsNamespace', new SetsNamespace())
  fn('SetsNamespace.contains(list, list): bool', (_: unknown, a: unknown[], b: unknown[]) => b.every((x) => a.some((y) => equal(x, y))))
  fn('SetsNamespace.equivalent(list, list): bool', (_: unknown, a: unknown[], b: unknown[]) => b.every((x) => a.some((y) => equal(x, y))) && a.every((x) => b.some((y) => equal(x, y))))
  fn('SetsNamespace.intersects(list, list): bool', (_: unknown, a: unknown[], b: unknown[]) => a.some((x) => b.some((y) => equal(x, y))))
  // regex (RE2)
  fn('string.find(string): string', (s: string, re: string) => findMatches(re, s, 1)[0] ?? '')
  fn('string.findAll(string): list<string>', (s: string, re: string) => findMatches(re, s))
  fn('string.findAll(string, int): list<string>', (s: string, re: string, n: bigint) => (n < 0n ? findMatches(re, s) : findMatches(re, s, Number(n))))
  return env
}
