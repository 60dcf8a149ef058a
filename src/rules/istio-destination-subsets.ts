/**
 * IST0101 `host+subset in destinationrule` / `mirror+subset in destinationrule`, after Istio's
 * `virtualservice.DestinationRuleAnalyzer`: a route or mirror destination with a `subset` needs
 * a DestinationRule defining that subset for that host. Hosts compare as Istio does: a
 * `<name>.<ns>.svc.cluster.local` host is (ns, name), any other is (own namespace, host);
 * DestinationRule exportTo and wildcards are ignored. Reads: DestinationRules by host.
 */
import { arr, KIND, nsOf, rec, str } from '../model/object.js'
import { serviceOfFQDN, toFQDN } from '../model/hosts.js'
import { finding } from './messages.js'
import { defineRule, type Finding } from './types.js'

function pair(host: string, ns: string): string {
  const svc = serviceOfFQDN(host)
  return svc ? `${svc.namespace}/${svc.name}` : `${ns}/${host}`
}

export const ist0101Subset = defineRule({
  code: 'IST0101',
  subjects: [KIND.VirtualService],
  inputs: [KIND.DestinationRule],
  istioAnalyzer: 'virtualservice.DestinationRuleAnalyzer',
  check(subject, { view }) {
    const ns = nsOf(subject)
    const spec = rec(subject.spec)
    const out: Finding[] = []
    const check = (dest: unknown, path: string, mirror: boolean) => {
      const d = rec(dest)
      const host = str(d.host)
      const subset = str(d.subset)
      if (!host || !subset) return
      const want = pair(host, ns)
      for (const dr of view.destinationRulesFor(toFQDN(host, ns))) {
        if (pair(str(rec(dr.spec).host) ?? '', nsOf(dr)) !== want) continue
        if (arr(rec(dr.spec).subsets).some((s) => str(rec(s).name) === subset)) return
      }
      out.push(finding('IST0101', subject, { reftype: mirror ? 'mirror+subset in destinationrule' : 'host+subset in destinationrule', name: `${host}+${subset}` }, { path }))
    }
    for (const section of ['http', 'tcp', 'tls'] as const) {
      arr(spec[section]).forEach((rule, i) => {
        arr(rec(rule).route).forEach((r, j) => check(rec(r).destination, `spec.${section}[${i}].route[${j}].destination`, false))
        if (section === 'http') {
          check(rec(rule).mirror, `spec.http[${i}].mirror`, true)
          arr(rec(rule).mirrors).forEach((m, j) => check(rec(m).destination, `spec.http[${i}].mirrors[${j}].destination`, true))
        }
      })
    }
    return out
  },
})

