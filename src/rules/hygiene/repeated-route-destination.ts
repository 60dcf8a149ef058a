/**
 * RG0501 RepeatedRouteDestination, hygiene that is true at run time, at info level (off at
 * admission by default; `analyze` and the audit show it). After Kiali KIA1105
 * `virtualservices.route.repeatedsubset`: one route of a VirtualService (`http[]`, `tcp[]`,
 * `tls[]` rule) or one rule of an HTTPRoute or GRPCRoute lists the same destination twice (host,
 * subset and port; a backendRef's group, kind, namespace, name and port). Envoy's weighted
 * cluster sums them: the split is not what the list reads like.
 */
import { arr, KIND, nsOf, num, rec, str } from '../../model/object.js'
import { toFQDN } from '../../model/hosts.js'
import { finding } from '../messages.js'
import { defineRule, type Finding } from '../types.js'

export const rg0501 = defineRule({
  code: 'RG0501',
  subjects: [KIND.VirtualService, KIND.HTTPRoute, KIND.GRPCRoute],
  inputs: [],
  check(subject) {
    const spec = rec(subject.spec)
    const ns = nsOf(subject)
    const out: Finding[] = []
    const repeated = (items: unknown[], keyOf: (x: Record<string, unknown>) => string | undefined, describe: (x: Record<string, unknown>) => string, at: (j: number) => string) => {
      const seen = new Set<string>()
      for (let j = 0; j < items.length; j++) {
        const x = rec(items[j])
        const key = keyOf(x)
        if (key === undefined) continue
        if (seen.has(key)) out.push(finding('RG0501', subject, { destination: describe(x), path: at(j) }, { path: at(j) }))
        else seen.add(key)
      }
    }
    if (subject.kind === 'VirtualService') {
      const destKey = (r: Record<string, unknown>) => {
        const d = rec(r.destination)
        const host = str(d.host)
        return host === undefined ? undefined : JSON.stringify([toFQDN(host, ns), str(d.subset) ?? '', num(rec(d.port).number) ?? 0])
      }
      const describe = (r: Record<string, unknown>) => {
        const d = rec(r.destination)
        return `${str(d.host)}${str(d.subset) ? ` subset ${str(d.subset)}` : ''}${num(rec(d.port).number) !== undefined ? ` port ${num(rec(d.port).number)}` : ''}`
      }
      for (const section of ['http', 'tcp', 'tls'] as const) {
        arr(spec[section]).forEach((rule, i) => repeated(arr(rec(rule).route), destKey, describe, (j) => `spec.${section}[${i}].route[${j}]`))
      }
      return out
    }
    const refKey = (b: Record<string, unknown>) => {
      const name = str(b.name)
      return name === undefined ? undefined : JSON.stringify([str(b.group) ?? '', str(b.kind) ?? 'Service', str(b.namespace) ?? ns, name, num(b.port) ?? 0])
    }
    const describe = (b: Record<string, unknown>) => `${str(b.kind) ?? 'Service'} ${str(b.namespace) ?? ns}/${str(b.name)}${num(b.port) !== undefined ? ` port ${num(b.port)}` : ''}`
    arr(spec.rules).forEach((rule, i) => repeated(arr(rec(rule).backendRefs), refKey, describe, (j) => `spec.rules[${i}].backendRefs[${j}]`))
    return out
  },
})
