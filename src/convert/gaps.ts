/**
 * VirtualService features without a standard Gateway API equivalent (research table "VS feature
 * → Gateway API v1.6.1"): each is reported once per occurrence with its field path, and the
 * converter reports the same when it drops or approximates one.
 */
import { arr, type K8sObject, rec, str, strs } from '../model/object.js'

export interface Gap {
  feature: string
  path: string
  /** what happens in conversion */
  detail: string
}

/** Features of a VirtualService that Gateway API cannot express (or only approximately). */
export function vsGaps(vs: K8sObject): Gap[] {
  const spec = rec(vs.spec)
  const out: Gap[] = []
  // exportTo ["*"] is the default: nothing lost
  if (strs(spec.exportTo).some((e) => e !== '*')) out.push({ feature: 'exportTo', path: 'spec.exportTo', detail: 'no Gateway API field: visibility comes from listener allowedRoutes or producer/consumer routes' })
  arr(spec.http).forEach((raw, i) => {
    const r = rec(raw)
    const at = `spec.http[${i}]`
    if (r.directResponse !== undefined) out.push({ feature: 'directResponse', path: `${at}.directResponse`, detail: 'no direct response in Gateway API; the rule is dropped' })
    const fault = rec(r.fault)
    if (fault.delay !== undefined) out.push({ feature: 'fault.delay', path: `${at}.fault.delay`, detail: 'no fault injection in Gateway API; dropped' })
    if (fault.abort !== undefined) out.push({ feature: 'fault.abort', path: `${at}.fault.abort`, detail: 'no fault injection in Gateway API; dropped' })
    if (r.retries !== undefined) out.push({ feature: 'retries', path: `${at}.retries`, detail: 'HTTPRoute retry exists only in the experimental channel; dropped' })
    if (rec(r.rewrite).uriRegexRewrite !== undefined) out.push({ feature: 'rewrite.uriRegexRewrite', path: `${at}.rewrite.uriRegexRewrite`, detail: 'no regex rewrite in Gateway API; dropped' })
    if (rec(r.redirect).derivePort !== undefined) out.push({ feature: 'redirect.derivePort', path: `${at}.redirect.derivePort`, detail: 'approximated: the port follows the scheme' })
    arr(r.match).forEach((m, j) => {
      const mm = rec(m)
      const mat = `${at}.match[${j}]`
      if (mm.sourceLabels !== undefined) out.push({ feature: 'sourceLabels', path: `${mat}.sourceLabels`, detail: 'no per-workload matching in Gateway API; dropped (the match gets wider)' })
      if (mm.gateways !== undefined) out.push({ feature: 'match.gateways', path: `${mat}.gateways`, detail: 'per-match gateways need separate routes; dropped' })
      if (mm.withoutHeaders !== undefined) out.push({ feature: 'withoutHeaders', path: `${mat}.withoutHeaders`, detail: 'no negative header match; dropped (the match gets wider)' })
      if (mm.scheme !== undefined) out.push({ feature: 'match.scheme', path: `${mat}.scheme`, detail: 'no scheme match; dropped (the match gets wider)' })
      if (mm.authority !== undefined) out.push({ feature: 'match.authority', path: `${mat}.authority`, detail: 'no authority match (use hostnames); dropped' })
      if (mm.ignoreUriCase !== undefined) out.push({ feature: 'ignoreUriCase', path: `${mat}.ignoreUriCase`, detail: 'no case-insensitive path match; dropped' })
      if (mm.port !== undefined) out.push({ feature: 'match.port', path: `${mat}.port`, detail: 'no port match in HTTPRoute (attach to a listener or Service port instead); dropped (the match gets wider)' })
      if (mm.statPrefix !== undefined) out.push({ feature: 'match.statPrefix', path: `${mat}.statPrefix`, detail: 'no per-match stats in Gateway API; dropped' })
      if (mm.sourceNamespace !== undefined) out.push({ feature: 'sourceNamespace', path: `${mat}.sourceNamespace`, detail: 'approximated by a consumer route in that namespace; dropped' })
      for (const [name, sm] of Object.entries(rec(mm.headers))) {
        if (rec(sm).prefix !== undefined) out.push({ feature: 'headers.prefix', path: `${mat}.headers.${name}.prefix`, detail: 'no prefix header match; converted to a RegularExpression match' })
      }
      for (const [name, sm] of Object.entries(rec(mm.queryParams))) {
        if (rec(sm).prefix !== undefined) out.push({ feature: 'queryParams.prefix', path: `${mat}.queryParams.${name}.prefix`, detail: 'no prefix query match; converted to a RegularExpression match' })
      }
      const method = rec(mm.method)
      if (method.prefix !== undefined || method.regex !== undefined) out.push({ feature: 'method.prefix/regex', path: `${mat}.method`, detail: 'only exact methods; dropped (the match gets wider)' })
    })
    const dests = [...arr(r.route).map((d) => rec(rec(d).destination)), rec(r.mirror), ...arr(r.mirrors).map((m) => rec(rec(m).destination))]
    dests.forEach((d) => {
      if (str(d.subset)) out.push({ feature: 'subset', path: `${at}`, detail: `subset ${str(d.subset)} of ${str(d.host)}: routed to a per-subset Service ${shortHost(str(d.host) ?? '')}-${str(d.subset)}` })
    })
  })
  // TCPRoute has no match and TLSRoute matches only SNI (hostnames): every other match field is lost
  arr(spec.tcp).forEach((raw, i) => {
    const matches = arr(rec(raw).match)
    // ports are kept as parentRef.port when every match names one (convert.ts)
    const portsKept = matches.length > 0 && matches.every((m) => typeof rec(m).port === 'number')
    matches.forEach((m, j) => {
      for (const k of Object.keys(rec(m))) if (!(k === 'port' && portsKept)) out.push({ feature: `tcp.match.${k}`, path: `spec.tcp[${i}].match[${j}].${k}`, detail: `TCPRoute has no match; ${k} dropped (the route takes every connection on its listener${k === 'port' ? ': another match of this route names no port' : ''})` })
    })
  })
  arr(spec.tls).forEach((raw, i) => {
    arr(rec(raw).match).forEach((m, j) => {
      for (const k of Object.keys(rec(m))) if (k !== 'sniHosts') out.push({ feature: `tls.match.${k}`, path: `spec.tls[${i}].match[${j}].${k}`, detail: `TLSRoute matches SNI hostnames only; ${k} dropped (the match gets wider)` })
    })
  })
  return out
}

export function shortHost(host: string): string {
  return host.split('.')[0]!
}
