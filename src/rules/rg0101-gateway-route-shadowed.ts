/**
 * RG0101 GatewayRouteShadowed: two VirtualServices bound to the same Istio Gateway (`name` or
 * `ns/name`, resolved in the VirtualService's namespace) and the same host (identical names only:
 * a more specific name is its own Envoy virtual host) where an HTTP match of one is identical to a
 * match of the other, or both have a catch-all rule. Istio's gateway merges the routes of both
 * into one virtual host in an order nobody chose, so one of them never gets traffic.
 * Reported on the newer of the two. Reads: the (gateway, host, match) index.
 */
import { type K8sObject, KIND, sameObject } from '../model/object.js'
import { CATCH_ALL, describeHttpMatch, forEachGatewayMatch, gatewayMatchKey, virtualService } from '../model/istio.js'
import { arr } from '../model/object.js'
import { describeAll, finding } from './messages.js'
import { defineRule, type Finding } from './types.js'

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
      const match = sig === CATCH_ALL ? 'catch-all (no match)' : describeHttpMatch(arr(vs.http[ruleIndex]!.match)[index!])
      out.push(finding('RG0101', subject, { match, host, gateway, others: describeAll(list) }, { path, related: list }))
    })
    return out
  },
})
