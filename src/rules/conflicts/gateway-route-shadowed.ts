/**
 * RG0101 GatewayRouteShadowed: two VirtualServices bound to the same Istio Gateway (`name` or
 * `ns/name`, resolved in the VirtualService's namespace) and the same host (identical names only:
 * a more specific name is its own Envoy virtual host) where an HTTP match of one is identical to a
 * match of the other, or both have a catch-all rule. Istio's gateway merges the routes of both
 * into one virtual host in an order nobody chose, so one of them never gets traffic.
 * Reported on the newer of the two. Reads: the (gateway, host, match) index. The first finding
 * names one request of the match and where the merged routes send it today (`routing/istio.ts`,
 * the model `routeguard trace` runs).
 */
import { arr, type K8sObject, KIND, nameOf, nsOf, sameObject } from '../../model/object.js'
import { CATCH_ALL, describeHttpMatch, forEachGatewayMatch, gatewayMatchKey, gatewayRef, istioGateway, virtualService } from '../../model/istio.js'
import { describeOutcome, describeRequest, exampleIstioRequest } from '../../routing/examples.js'
import { traceIstioGateway } from '../../routing/istio.js'
import type { View } from '../../view/view.js'
import { describeAll, finding } from '../messages.js'
import { defineRule, type Finding } from '../types.js'

export const rg0101 = defineRule({
  code: 'RG0101',
  subjects: [KIND.VirtualService],
  inputs: [KIND.VirtualService],
  check(subject, { view, olderThanSubject }) {
    const vs = virtualService(subject)
    const out: Finding[] = []
    const reported = new Set<string>()
    // bounded like the index (MAX_GATEWAY_FANOUT): what the index skipped cannot be looked up
    forEachGatewayMatch(vs, (gateway, host, { ruleIndex, index, sig }) => {
      const others = new Set<K8sObject>()
      for (const p of view.gatewayVirtualServices(gateway, host, sig)) {
        if (!sameObject(p.obj, subject) && olderThanSubject(p.obj)) others.add(p.obj)
      }
      if (others.size === 0) return
      const key = gatewayMatchKey(gateway, host, sig)
      if (reported.has(key)) return
      reported.add(key)
      const path = index === undefined ? `spec.http[${ruleIndex}]` : `spec.http[${ruleIndex}].match[${index}]`
      const list = [...others]
      const raw = index === undefined ? undefined : arr(vs.http[ruleIndex]!.match)[index]
      const match = sig === CATCH_ALL ? 'catch-all (no match)' : describeHttpMatch(raw)
      out.push(finding('RG0101', subject, { match, host, gateway, others: describeAll(list), example: out.length ? '' : example(view, subject, gateway, host, raw) }, { path, related: list }))
    })
    return out
  },
})

/**
 * `: GET http://host/path … goes to VirtualService ns/name rule N` through the Istio Gateway (the
 * first server that admits the host gives the port); `` when the match has no plain example or the
 * Gateway is not in the view.
 */
function example(view: View, subject: K8sObject, gateway: string, host: string, raw: unknown): string {
  const ref = gatewayRef(gateway, nsOf(subject))
  const gw = view.get(KIND.IstioGateway, ref.namespace, ref.name)
  const server = gw && istioGateway(gw).servers.find((s) => s.hosts.some((h) => h.endsWith('*') || h.endsWith(host)))
  if (!gw || !server) return ''
  const req = exampleIstioRequest(raw, host, server.port)
  if (!req) return ''
  const result = traceIstioGateway(view, gw, req)
  const r = result.route
  if (!r || (r.namespace === nsOf(subject) && r.name === nameOf(subject))) return `: for example ${describeRequest(req)}`
  return `: ${describeRequest(req)} ${describeOutcome(result)} today`
}
