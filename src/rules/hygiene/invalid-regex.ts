/**
 * RG0502 InvalidRegex: every regular expression a route carries must compile as RE2, the engine
 * Envoy runs (`safe_regex`) and the one routeguard matches with (routing/regex.ts).
 *
 * Istio's validation (`pkg/config/validation`, `ValidateHTTPRoute` → `validateStringMatchRegexp`)
 * refuses a VirtualService whose `uri`, `scheme`, `method`, `authority`, `headers`,
 * `withoutHeaders` (except the special `*`), `queryParams` regex or `rewrite.uriRegexRewrite.match`
 * does not compile as RE2 or is longer than 1024 characters; the Gateway API leaves the
 * RegularExpression dialect to the implementation, and an Envoy-based one cannot program such a
 * route. One finding per expression, with its field path.
 */
import { arr, KIND, rec, str } from '../../model/object.js'
import { regexError } from '../../routing/regex.js'
import { shorten } from '../../model/text.js'
import { finding } from '../messages.js'
import { defineRule, type Finding } from '../types.js'
import type { K8sObject } from '../../model/object.js'

export const rg0502 = defineRule({
  code: 'RG0502',
  subjects: [KIND.VirtualService, KIND.HTTPRoute, KIND.GRPCRoute],
  inputs: [],
  check(subject) {
    const out: Finding[] = []
    const check = (pattern: unknown, path: string) => {
      if (typeof pattern !== 'string') return
      const error = regexError(pattern)
      if (error !== undefined) out.push(finding('RG0502', subject, { pattern: JSON.stringify(shorten(pattern, 80)), error, path }, { path }))
    }
    const spec = rec(subject.spec)
    if (subject.kind === 'VirtualService') checkVirtualService(spec, check)
    else checkRoute(subject, spec, check)
    return out
  },
})

type Check = (pattern: unknown, path: string) => void

function checkVirtualService(spec: Record<string, unknown>, check: Check): void {
  arr(spec.http).forEach((r, i) => {
    const rule = rec(r)
    arr(rule.match).forEach((m, j) => {
      const match = rec(m)
      const at = `spec.http[${i}].match[${j}]`
      for (const f of ['uri', 'scheme', 'method', 'authority'] as const) check(rec(match[f]).regex, `${at}.${f}.regex`)
      for (const f of ['headers', 'withoutHeaders', 'queryParams'] as const) {
        for (const [name, sm] of Object.entries(rec(match[f]))) {
          const regex = rec(sm).regex
          // withoutHeaders' `*` is Istio's "header absent" form, not a regex
          if (f === 'withoutHeaders' && regex === '*') continue
          check(regex, `${at}.${f}.${name}.regex`)
        }
      }
    })
    check(rec(rec(rule.rewrite).uriRegexRewrite).match, `spec.http[${i}].rewrite.uriRegexRewrite.match`)
    arr(rec(rule.corsPolicy).allowOrigins).forEach((o, k) => check(rec(o).regex, `spec.http[${i}].corsPolicy.allowOrigins[${k}].regex`))
  })
}

function checkRoute(subject: K8sObject, spec: Record<string, unknown>, check: Check): void {
  const grpc = subject.kind === 'GRPCRoute'
  arr(spec.rules).forEach((r, i) => {
    arr(rec(r).matches).forEach((m, j) => {
      const match = rec(m)
      const at = `spec.rules[${i}].matches[${j}]`
      const regex = (x: Record<string, unknown>) => str(x.type) === 'RegularExpression'
      if (grpc) {
        const method = rec(match.method)
        if (regex(method)) {
          check(method.service, `${at}.method.service`)
          check(method.method, `${at}.method.method`)
        }
      } else if (regex(rec(match.path))) check(rec(match.path).value, `${at}.path.value`)
      for (const f of ['headers', 'queryParams'] as const) {
        arr(match[f]).forEach((h, k) => {
          if (regex(rec(h))) check(rec(h).value, `${at}.${f}[${k}].value`)
        })
      }
    })
  })
}
