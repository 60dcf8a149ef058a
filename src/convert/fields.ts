/**
 * Nothing dropped silently: what `convert` does with every field of an Istio VirtualService and
 * Gateway (`networking.istio.io/v1`, the CRD schemas in Istio's `crd-all.gen.yaml`). Each field
 * pattern (`http[].match[].headers.*.prefix`: `[]` any index, `*` any map key) is
 * - `converted`: written to the output with the same meaning;
 * - `reported`: approximated or dropped with its own RG0302 line (gaps.ts, convert.ts);
 * - `dropped`: no Gateway API equivalent and no line of its own: `unreported` gives it one.
 * A field the table does not know is reported as unknown and dropped. The conformance suite walks
 * the CRD schemas and fails on a field missing here, and sets each field to check its line.
 */
import type { K8sObject } from '../model/object.js'
import type { Gap } from './gaps.js'

export type Disposition = 'converted' | 'reported' | 'dropped'

const C: Disposition = 'converted'
const R: Disposition = 'reported'
const D: Disposition = 'dropped'

/** VirtualService `spec` fields. */
export const VIRTUAL_SERVICE_FIELDS: Record<string, Disposition> = {
  'exportTo[]': R,
  'gateways[]': C,
  'hosts[]': C,
  // the CORS filter (Gateway API v1.5+); on an older target every corsPolicy field is a gap
  ...Object.fromEntries(['allowCredentials', 'allowHeaders[]', 'allowMethods[]', 'allowOrigin[]', 'allowOrigins[].exact', 'exposeHeaders[]', 'maxAge'].map((f) => [`http[].corsPolicy.${f}`, C])),
  ...Object.fromEntries(['allowOrigins[].prefix', 'allowOrigins[].regex', 'unmatchedPreflights'].map((f) => [`http[].corsPolicy.${f}`, R])),
  // the delegate's rules are inlined in the root's route (convert.ts delegateRules)
  'http[].delegate.name': C,
  'http[].delegate.namespace': C,
  'http[].directResponse.body.bytes': R,
  'http[].directResponse.body.string': R,
  'http[].directResponse.status': R,
  ...Object.fromEntries(['abort.grpcStatus', 'abort.http2Error', 'abort.httpStatus', 'abort.percentage.value', 'delay.exponentialDelay', 'delay.fixedDelay', 'delay.percent', 'delay.percentage.value'].map((f) => [`http[].fault.${f}`, R])),
  ...Object.fromEntries(['request', 'response'].flatMap((d) => [`http[].headers.${d}.add.*`, `http[].headers.${d}.remove[]`, `http[].headers.${d}.set.*`, `http[].route[].headers.${d}.add.*`, `http[].route[].headers.${d}.remove[]`, `http[].route[].headers.${d}.set.*`]).map((f) => [f, C])),
  ...Object.fromEntries(['exact', 'prefix', 'regex'].map((m) => [`http[].match[].authority.${m}`, R])),
  'http[].match[].gateways[]': R,
  'http[].match[].headers.*.exact': C,
  'http[].match[].headers.*.prefix': R,
  'http[].match[].headers.*.regex': C,
  'http[].match[].ignoreUriCase': R,
  'http[].match[].method.exact': C,
  'http[].match[].method.prefix': R,
  'http[].match[].method.regex': R,
  'http[].match[].name': D,
  'http[].match[].port': R,
  'http[].match[].queryParams.*.exact': C,
  'http[].match[].queryParams.*.prefix': R,
  'http[].match[].queryParams.*.regex': C,
  ...Object.fromEntries(['exact', 'prefix', 'regex'].map((m) => [`http[].match[].scheme.${m}`, R])),
  'http[].match[].sourceLabels.*': R,
  'http[].match[].sourceNamespace': R,
  'http[].match[].statPrefix': R,
  'http[].match[].uri.exact': C,
  'http[].match[].uri.prefix': R,
  'http[].match[].uri.regex': C,
  ...Object.fromEntries(['exact', 'prefix', 'regex'].map((m) => [`http[].match[].withoutHeaders.*.${m}`, R])),
  'http[].mirror.host': C,
  'http[].mirror.port.number': C,
  'http[].mirror.subset': C,
  'http[].mirror_percent': D,
  'http[].mirrorPercent': C,
  'http[].mirrorPercentage.value': C,
  'http[].mirrors[].destination.host': C,
  'http[].mirrors[].destination.port.number': C,
  'http[].mirrors[].destination.subset': C,
  'http[].mirrors[].percentage.value': C,
  'http[].name': C,
  'http[].redirect.authority': C,
  'http[].redirect.derivePort': R,
  'http[].redirect.port': C,
  'http[].redirect.prefixRewrite': C,
  'http[].redirect.redirectCode': C,
  'http[].redirect.scheme': C,
  'http[].redirect.uri': C,
  ...Object.fromEntries(['attempts', 'backoff', 'perTryTimeout', 'retryIgnorePreviousHosts', 'retryOn', 'retryRemoteLocalities'].map((f) => [`http[].retries.${f}`, R])),
  'http[].rewrite.authority': C,
  'http[].rewrite.uri': C,
  'http[].rewrite.uriRegexRewrite.match': R,
  'http[].rewrite.uriRegexRewrite.rewrite': R,
  'http[].route[].destination.host': C,
  'http[].route[].destination.port.number': C,
  'http[].route[].destination.subset': C,
  'http[].route[].weight': C,
  'http[].timeout': C,
  ...Object.fromEntries(['destinationSubnets[]', 'gateways[]', 'sourceLabels.*', 'sourceNamespace', 'sourceSubnet'].map((f) => [`tcp[].match[].${f}`, R])),
  // parentRef.port of the TCPRoute (when every match of the route names a port; else a gap)
  'tcp[].match[].port': C,
  ...Object.fromEntries(['host', 'port.number', 'subset'].flatMap((f) => [`tcp[].route[].destination.${f}`, `tls[].route[].destination.${f}`]).map((f) => [f, C])),
  'tcp[].route[].weight': C,
  'tls[].route[].weight': C,
  ...Object.fromEntries(['destinationSubnets[]', 'gateways[]', 'port', 'sourceLabels.*', 'sourceNamespace'].map((f) => [`tls[].match[].${f}`, R])),
  'tls[].match[].sniHosts[]': C,
}

/** Istio Gateway `spec` fields. */
export const GATEWAY_FIELDS: Record<string, Disposition> = {
  'selector.*': D,
  'servers[].bind': D,
  'servers[].defaultEndpoint': D,
  'servers[].hosts[]': C,
  'servers[].name': D,
  'servers[].port.name': D,
  'servers[].port.number': C,
  'servers[].port.protocol': C,
  'servers[].port.targetPort': D,
  'servers[].tls.credentialName': C,
  'servers[].tls.mode': C,
  'servers[].tls.httpsRedirect': R,
  'servers[].tls.privateKey': D,
  'servers[].tls.serverCertificate': D,
  ...Object.fromEntries(['caCertCredentialName', 'caCertificates', 'caCrl', 'cipherSuites[]', 'credentialNames[]', 'ecdhCurves[]', 'insecureSkipVerify', 'maxProtocolVersion', 'minProtocolVersion', 'subjectAltNames[]', 'tlsCertificates[].caCertificates', 'tlsCertificates[].privateKey', 'tlsCertificates[].serverCertificate', 'verifyCertificateHash[]', 'verifyCertificateSpki[]'].map((f) => [`servers[].tls.${f}`, D])),
}

const NOTES: Record<string, string> = {
  'http[].match[].name': 'match names only label stats and logs',
  'http[].mirror_percent': 'deprecated; mirrorPercentage is converted',
  'selector.*': 'a Gateway API Gateway gets its own deployment from the implementation; the Istio selector is not kept',
  'servers[].name': 'server names only label stats',
  'servers[].port.name': 'port names only label stats',
}

/** `(pattern, concrete path)` of every leaf field set in `spec` (objects walked, arrays by index, maps by key). */
export function setFields(spec: unknown, table: Record<string, Disposition>): { pattern: string; path: string }[] {
  const keys = Object.keys(table)
  const isMap = (p: string) => keys.some((k) => k.startsWith(`${p}.*`))
  const out: { pattern: string; path: string }[] = []
  const walk = (v: unknown, pattern: string, path: string) => {
    if (pattern && table[pattern] !== undefined) {
      out.push({ pattern, path })
      return
    }
    if (Array.isArray(v)) {
      if (table[`${pattern}[]`] !== undefined) out.push({ pattern: `${pattern}[]`, path })
      else v.forEach((x, i) => walk(x, `${pattern}[]`, `${path}[${i}]`))
      return
    }
    if (v !== null && typeof v === 'object') {
      const map = pattern !== '' && isMap(pattern)
      for (const [k, x] of Object.entries(v)) walk(x, map ? `${pattern}.*` : pattern ? `${pattern}.${k}` : k, path ? `${path}.${k}` : k)
      return
    }
    out.push({ pattern, path })
  }
  walk(spec, '', '')
  return out
}

/**
 * Lines for the fields of `obj` (a VirtualService or Istio Gateway) that are dropped and not
 * reported yet: `dropped` fields, and fields the table does not know. `gaps` are the lines convert
 * already has for this object (a line whose path covers the field counts).
 */
export function unreported(obj: K8sObject, table: Record<string, Disposition>, gaps: Gap[]): Gap[] {
  const out: Gap[] = []
  for (const { pattern, path } of setFields(obj.spec, table)) {
    const d = table[pattern]
    if (d === 'converted' || d === 'reported') continue
    const full = `spec.${path}`
    if (gaps.some((g) => full.startsWith(g.path) || g.path.startsWith(full))) continue
    out.push({ feature: pattern, path: full, detail: d === 'dropped' ? `no Gateway API equivalent (${NOTES[pattern] ?? 'not converted'}); dropped` : 'a field routeguard does not know; dropped' })
  }
  return out
}
