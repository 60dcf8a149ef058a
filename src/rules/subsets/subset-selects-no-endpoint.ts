/**
 * RG0406 SubsetSelectsNoEndpoint: what Envoy really gets for a subset of a Kubernetes Service
 * host. Pilot builds the subset's cluster from the host's endpoints (the Service's Pods: its
 * namespace, its selector) filtered by the subset labels; when none is left the cluster is empty
 * and requests routed to the subset get 503. IST0173 follows istioctl (Pods of any namespace with
 * the subset labels) and stays so; RG0406 reports only what IST0173 misses: the labels are carried
 * somewhere, but not by this Service's Pods (`version: v1` Pods of another namespace, or of
 * another app). A Service without a selector (endpoints managed by hand) is left alone, and so is a
 * subset whose labels contradict the selector (RG0404 says that for generated Services).
 * Reads: the Service of the host, workloads by label.
 */
import { arr, KIND, nsOf, rec, str, stringMap } from '../../model/object.js'
import { serviceOfFQDN, toFQDN } from '../../model/hosts.js'
import { WORKLOAD_KINDS } from '../../model/workloads.js'
import type { Workload } from '../../view/view.js'
import { finding } from '../messages.js'
import { defineRule, type Finding } from '../types.js'

export const rg0406 = defineRule({
  code: 'RG0406',
  subjects: [KIND.DestinationRule],
  inputs: [KIND.Service, ...WORKLOAD_KINDS],
  check(subject, { view }) {
    const raw = str(rec(subject.spec).host) ?? ''
    const svcRef = serviceOfFQDN(toFQDN(raw, nsOf(subject)))
    const service = svcRef && view.get(KIND.Service, svcRef.namespace, svcRef.name)
    if (!service || !view.covers(KIND.Pod)) return []
    const selector = stringMap(rec(service.spec).selector)
    if (Object.keys(selector).length === 0) return []
    const out: Finding[] = []
    arr(rec(subject.spec).subsets).forEach((s, i) => {
      const labels = stringMap(rec(s).labels)
      if (Object.keys(labels).length === 0) return
      if (Object.entries(labels).some(([k, v]) => k in selector && selector[k] !== v)) return
      const own = (sel: Record<string, string>) => {
        for (const w of view.workloadsSelected(sel)) if (w.namespace === svcRef!.namespace) return true
        return false
      }
      if (own({ ...selector, ...labels })) return
      // IST0173's question: does any workload anywhere carry the subset labels? If not, it speaks
      const elsewhere: Workload[] = []
      for (const w of view.workloadsSelected(labels)) if (elsewhere.push(w) >= 3) break
      if (elsewhere.length === 0) return
      const why = own(selector)
        ? `its Pods (${JSON.stringify(selector)}) carry no ${JSON.stringify(labels)}; Pods with those labels are ${elsewhere.map((w) => `${w.kind.split('/')[1]} ${w.namespace}/${w.obj.metadata?.name}`).join(', ')}`
        : `the Service selects no Pod here; Pods with ${JSON.stringify(labels)} are ${elsewhere.map((w) => `${w.kind.split('/')[1]} ${w.namespace}/${w.obj.metadata?.name}`).join(', ')}`
      out.push(finding('RG0406', subject, { subset: str(rec(s).name) ?? `#${i}`, host: raw, service: `${svcRef!.namespace}/${svcRef!.name}`, why }, { path: `spec.subsets[${i}]` }))
    })
    return out
  },
})
