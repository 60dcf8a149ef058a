/**
 * Which Gateway API features (named as in the conformance suite, `pkg/features`) an object
 * uses, and whether an implementation claims them (src/features/implementations.ts).
 */
import { arr, type K8sObject, KIND, kindKeyOf, num, rec, str } from '../model/object.js'
import { IMPLEMENTATION_FEATURES } from './implementations.js'

export interface FeatureUse {
  feature: string
  path: string
}

/** `name` or `name@version`; @throws Error naming the known implementations and versions. */
export function resolveImplementation(spec: string): { name: string; version: string; features: Set<string> } {
  const [name, version] = spec.split('@') as [string, string | undefined]
  const impl = IMPLEMENTATION_FEATURES[name]
  if (!impl) throw new Error(`unknown implementation ${name} (known: ${Object.keys(IMPLEMENTATION_FEATURES).join(', ')})`)
  const versions = Object.keys(impl)
  const v = version ?? versions[versions.length - 1]!
  if (!impl[v]) throw new Error(`no conformance report for ${name}@${v} (reported: ${versions.join(', ')})`)
  return { name, version: v, features: new Set(impl[v].features) }
}

/** Gateway API features an HTTPRoute, GRPCRoute, TLSRoute, TCPRoute or Gateway uses. */
export function featuresUsed(obj: K8sObject): FeatureUse[] {
  const kind = kindKeyOf(obj)
  const spec = rec(obj.spec)
  const out: FeatureUse[] = []
  const use = (feature: string, path: string) => out.push({ feature, path })
  if (kind === KIND.Gateway) {
    arr(spec.listeners).forEach((l, i) => {
      if (num(rec(l).port) === 8080) use('GatewayPort8080', `spec.listeners[${i}].port`)
    })
    if (arr(spec.addresses).length) use('GatewayStaticAddresses', 'spec.addresses')
    if (spec.infrastructure !== undefined) use('GatewayInfrastructurePropagation', 'spec.infrastructure')
    const tls = rec(spec.tls)
    if (tls.frontend !== undefined) use('GatewayFrontendClientCertificateValidation', 'spec.tls.frontend')
    if (rec(tls.backend).clientCertificateRef !== undefined) use('GatewayBackendClientCertificate', 'spec.tls.backend.clientCertificateRef')
    return out
  }
  if (kind === KIND.TLSRoute) use('TLSRoute', 'kind')
  if (kind === KIND.TCPRoute) use('TCPRoute', 'kind')
  if (kind === KIND.GRPCRoute) use('GRPCRoute', 'kind')
  if (kind !== KIND.HTTPRoute && kind !== KIND.GRPCRoute) return out
  const mesh = arr(spec.parentRefs).some((p) => str(rec(p).kind) === 'Service')
  if (mesh) use('Mesh', 'spec.parentRefs')
  arr(spec.parentRefs).forEach((p, i) => {
    if (num(rec(p).port) !== undefined && str(rec(p).kind) !== 'Service') use('HTTPRouteParentRefPort', `spec.parentRefs[${i}].port`)
  })
  const rules = arr(spec.rules)
  for (let i = 0; i < rules.length; i++) {
    const rule = rec(rules[i])
    const at = `spec.rules[${i}]`
    if (str(rule.name)) use(kind === KIND.GRPCRoute ? 'GRPCRouteNamedRouteRule' : mesh ? 'MeshHTTPRouteNamedRouteRule' : 'HTTPRouteNamedRouteRule', `${at}.name`)
    if (kind === KIND.GRPCRoute) continue
    arr(rule.matches).forEach((m, j) => {
      if (str(rec(m).method)) use('HTTPRouteMethodMatching', `${at}.matches[${j}].method`)
      if (arr(rec(m).queryParams).length) use(mesh ? 'MeshHTTPRouteQueryParamMatching' : 'HTTPRouteQueryParamMatching', `${at}.matches[${j}].queryParams`)
    })
    const timeouts = rec(rule.timeouts)
    if (timeouts.request !== undefined) use('HTTPRouteRequestTimeout', `${at}.timeouts.request`)
    if (timeouts.backendRequest !== undefined) use('HTTPRouteBackendTimeout', `${at}.timeouts.backendRequest`)
    if (rule.retry !== undefined) use('HTTPRouteRetry', `${at}.retry`)
    let mirrors = 0
    arr(rule.filters).forEach((f, j) => {
      const filter = rec(f)
      const fat = `${at}.filters[${j}]`
      switch (str(filter.type)) {
        case 'RequestRedirect': {
          const r = rec(filter.requestRedirect)
          if (r.path !== undefined) use(mesh ? 'MeshHTTPRouteRedirectPath' : 'HTTPRoutePathRedirect', `${fat}.requestRedirect.path`)
          if (r.port !== undefined) use(mesh ? 'MeshHTTPRouteRedirectPort' : 'HTTPRoutePortRedirect', `${fat}.requestRedirect.port`)
          if (r.scheme !== undefined) use(mesh ? 'MeshHTTPRouteSchemeRedirect' : 'HTTPRouteSchemeRedirect', `${fat}.requestRedirect.scheme`)
          const code = num(r.statusCode)
          if (code === 303 || code === 307 || code === 308) use(`HTTPRoute${code}RedirectStatusCode`, `${fat}.requestRedirect.statusCode`)
          break
        }
        case 'URLRewrite': {
          const r = rec(filter.urlRewrite)
          if (r.hostname !== undefined) use('HTTPRouteHostRewrite', `${fat}.urlRewrite.hostname`)
          if (r.path !== undefined) use(mesh ? 'MeshHTTPRouteRewritePath' : 'HTTPRoutePathRewrite', `${fat}.urlRewrite.path`)
          break
        }
        case 'RequestMirror': {
          mirrors++
          use('HTTPRouteRequestMirror', fat)
          const r = rec(filter.requestMirror)
          if (r.percent !== undefined || r.fraction !== undefined) use('HTTPRouteRequestPercentageMirror', `${fat}.requestMirror`)
          break
        }
        case 'ResponseHeaderModifier':
          use('HTTPRouteResponseHeaderModification', fat)
          break
        case 'CORS':
          use('HTTPRouteCORS', fat)
          break
      }
    })
    if (mirrors > 1) use('HTTPRouteRequestMultipleMirrors', `${at}.filters`)
    arr(rule.backendRefs).forEach((b, j) => {
      if (arr(rec(b).filters).some((f) => str(rec(f).type) === 'RequestHeaderModifier')) use(mesh ? 'MeshHTTPRouteBackendRequestHeaderModification' : 'HTTPRouteBackendRequestHeaderModification', `${at}.backendRefs[${j}].filters`)
    })
  }
  return out
}

/**
 * Istio's translation hard errors (pilot/pkg/config/kube/gateway/conversion.go): an ExtensionRef
 * filter on a rule, or a filter other than a header modifier on a backendRef, makes Istio drop
 * the route's rules for that parent (`unsupported filter type`).
 */
export function istioHardErrors(obj: K8sObject): FeatureUse[] {
  const kind = kindKeyOf(obj)
  if (kind !== KIND.HTTPRoute && kind !== KIND.GRPCRoute) return []
  const out: FeatureUse[] = []
  arr(rec(obj.spec).rules).forEach((rule, i) => {
    arr(rec(rule).filters).forEach((f, j) => {
      if (str(rec(f).type) === 'ExtensionRef') out.push({ feature: 'ExtensionRef filter', path: `spec.rules[${i}].filters[${j}]` })
    })
    arr(rec(rule).backendRefs).forEach((b, j) => {
      arr(rec(b).filters).forEach((f, k) => {
        const t = str(rec(f).type)
        if (t && t !== 'RequestHeaderModifier' && t !== 'ResponseHeaderModifier') out.push({ feature: `${t} filter on a backendRef`, path: `spec.rules[${i}].backendRefs[${j}].filters[${k}]` })
      })
    })
  })
  return out
}
