/**
 * IST0101 `subset` / `mirror subset` (Istio: `host+subset in destinationrule`), after Istio's
 * `virtualservice.DestinationRuleAnalyzer`: a route or mirror destination with a `subset` needs
 * a DestinationRule defining that subset for that host. Hosts compare as Istio does: a
 * `<name>.<ns>.svc.cluster.local` host is (ns, name), any other is (own namespace, host);
 * DestinationRule exportTo is ignored. Where no DestinationRule names the host itself, the most
 * specific wildcard DestinationRule that matches it counts (pilot applies it, by
 * `MostSpecificHostMatch`; Istio's analyzer does not look, and reports its subsets as missing).
 * Reads: DestinationRules by host, wildcard DestinationRules above it.
 */
import { arr, type K8sObject, KIND, nsOf, rec, str } from '../../model/object.js'
import { hostsMatch, serviceOfFQDN, toFQDN } from '../../model/hosts.js'
import { finding } from '../messages.js'
import { defineRule, type Finding } from '../types.js'

function defines(dr: K8sObject, subset: string): boolean {
  return arr(rec(dr.spec).subsets).some((s) => str(rec(s).name) === subset)
}

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
      const fqdn = toFQDN(host, ns)
      let exact = false
      for (const dr of view.destinationRulesFor(fqdn)) {
        exact = true
        if (pair(str(rec(dr.spec).host) ?? '', nsOf(dr)) !== want) continue
        if (defines(dr, subset)) return
      }
      // no rule for the host itself: pilot applies the most specific wildcard rule that matches it
      if (!exact && !fqdn.startsWith('*')) {
        let best: { obj: K8sObject; host: string }[] = []
        for (const p of view.wildcardDestinationRulesMatching(fqdn)) {
          if (!hostsMatch(p.host, fqdn)) continue
          if (best.length === 0 || p.host.length > best[0]!.host.length) best = [p]
          else if (p.host.length === best[0]!.host.length) best.push(p)
        }
        if (best.some((p) => defines(p.obj, subset))) return
      }
      out.push(finding('IST0101', subject, { reftype: mirror ? 'mirror subset' : 'subset', name: `${subset} of ${host} (in no DestinationRule)` }, { path }))
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

