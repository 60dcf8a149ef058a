/**
 * IST0145 ConflictingGateways, after Istio's `gateway.ConflictingGatewayAnalyzer`: servers of
 * two Istio Gateways conflict when the Gateways select the same workloads (equal selector
 * strings, or one selector string contains the other and some Pod is selected by both), on the
 * same port number and `bind`, with an identical host string (`ns/` prefix included). Protocol
 * is ignored. One finding per conflicting server of the subject.
 * Reads: Istio Gateways on the server's port (grouped by selector), Pods for sub-selectors.
 */
import { type K8sObject, KIND, lengthPrefixed, sameObject } from '../../model/object.js'
import { istioGateway } from '../../model/istio.js'
import { WORKLOAD_KINDS } from '../../model/workloads.js'
import { describeAll, finding, listText } from '../messages.js'
import { defineRule, type Finding } from '../types.js'

export const ist0145 = defineRule({
  code: 'IST0145',
  subjects: [KIND.IstioGateway],
  inputs: [KIND.IstioGateway, ...WORKLOAD_KINDS],
  istioAnalyzer: 'gateway.ConflictingGatewayAnalyzer',
  check(subject, { view }) {
    const gw = istioGateway(subject)
    const out: Finding[] = []
    // (port, bind, host) of each other gateway's servers, built once per other gateway: Istio
    // compares server by server; a lookup per host keeps a gateway of 50k servers linear
    const keysOf = new Map<K8sObject, Set<string>>()
    const serverKeys = (other: K8sObject) => {
      let keys = keysOf.get(other)
      if (!keys) {
        keys = new Set()
        for (const s of istioGateway(other).servers) for (const h of s.hosts) keys.add(lengthPrefixed([String(s.port), s.bind, h]))
        keysOf.set(other, keys)
      }
      return keys
    }
    // the other gateways on the same workload, per port (looked up once per port, not per server)
    const onPort = new Map<number, K8sObject[]>()
    const gatewaysOn = (port: number) => {
      let list = onPort.get(port)
      if (!list) {
        list = []
        for (const [sel, gateways] of view.istioGatewaysOnPort(port)) {
          if (!sameWorkload(gw.selectorString, gw.selector, sel, view.anyWorkloadSelected.bind(view), gateways)) continue
          for (const other of gateways) if (!sameObject(other, subject)) list.push(other)
        }
        onPort.set(port, list)
      }
      return list
    }
    for (const server of gw.servers) {
      const others = new Set<K8sObject>()
      for (const other of gatewaysOn(server.port)) {
        const keys = serverKeys(other)
        if (server.hosts.some((h) => keys.has(lengthPrefixed([String(server.port), server.bind, h])))) others.add(other)
      }
      if (others.size === 0) continue
      const list = [...others]
      out.push(
        finding(
          'IST0145',
          subject,
          { others: describeAll(list), selector: gw.selectorString || '(none)', port: String(server.port), hosts: listText(server.hosts) },
          { path: `spec.servers[${server.index}]`, related: list },
        ),
      )
    }
    return out
  },
})

function sameWorkload(
  mine: string,
  mySelector: Record<string, string>,
  theirs: string,
  anyWorkloadSelected: (sel: Record<string, string>) => boolean,
  gateways: Iterable<K8sObject>,
): boolean {
  if (mine === theirs) return true
  if (!mine.includes(theirs) && !theirs.includes(mine)) return false
  // One selector string contains the other: the same workload only if some Pod carries both
  // label sets. All gateways of a group share one selector, so the first one stands for all.
  for (const g of gateways) return anyWorkloadSelected({ ...mySelector, ...istioGateway(g).selector })
  return false
}
