/**
 * After Istio's `destinationrule.SubsetSelectPodAnalyzer`: IST0174 when a DestinationRule's host
 * resolves to no visible Service or ServiceEntry (the destination lookup of
 * `istio-destination-hosts.ts`); IST0173 for each subset whose labels select no Pod in the
 * host's namespace, a Pod's labels being completed with its Node's non-empty topology labels
 * (`topology.kubernetes.io/region`, `…/zone`, `topology.istio.io/subzone`, `kubernetes.io/hostname`).
 * Skipped where the view does not hold Pods (a live view does not watch them).
 */
import { arr, type K8sObject, KIND, nsOf, rec, str, stringMap } from '../model/object.js'
import { serviceOfFQDN, toFQDN } from '../model/hosts.js'
import { exportScopes, PUBLIC_SCOPE } from '../model/istio.js'
import type { View } from '../view/view.js'
import { resolveDestination } from './istio-destination-hosts.js'
import { finding } from './messages.js'
import { analyzerRules, type Finding } from './types.js'

const TOPOLOGY = ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone', 'kubernetes.io/hostname']

function podLabels(view: View, pod: K8sObject): Record<string, string> {
  const labels = stringMap(pod.metadata?.labels)
  const node = view.get(KIND.Node, '', str(rec(pod.spec).nodeName) ?? '')
  const nodeLabels = stringMap(node?.metadata?.labels)
  for (const k of TOPOLOGY) if (nodeLabels[k]) labels[k] ??= nodeLabels[k]
  return labels
}

function analyze(subject: K8sObject, view: View): Finding[] {
  const ns = nsOf(subject)
  const spec = rec(subject.spec)
  const raw = str(spec.host) ?? ''
  const host = toFQDN(raw, ns)
  const scopes = exportScopes(arr(spec.exportTo).filter((x): x is string => typeof x === 'string'), ns)
  const found = resolveDestination(view, host, new Set(scopes.includes(PUBLIC_SCOPE) ? [ns] : scopes))
  const out: Finding[] = []
  if (!found) {
    if (view.covers(KIND.Service) && view.covers(KIND.ServiceEntry)) out.push(finding('IST0174', subject, { host: raw }, { path: 'spec.host' }))
    return out
  }
  if (!view.covers(KIND.Pod)) return out
  const podNs = serviceOfFQDN(host)?.namespace ?? ns
  arr(spec.subsets).forEach((s, i) => {
    const labels = stringMap(rec(s).labels)
    const plain = Object.fromEntries(Object.entries(labels).filter(([k]) => !TOPOLOGY.includes(k)))
    for (const pod of view.podsSelected(plain)) {
      if (nsOf(pod) !== podNs) continue
      const all = podLabels(view, pod)
      if (Object.entries(labels).every(([k, v]) => all[k] === v)) return
    }
    out.push(finding('IST0173', subject, { subset: str(rec(s).name) ?? `#${i}`, host: raw, labels: JSON.stringify(labels) }, { path: `spec.subsets[${i}]` }))
  })
  return out
}

export const { IST0173: ist0173, IST0174: ist0174 } = analyzerRules(
  { subjects: [KIND.DestinationRule], inputs: [KIND.Service, KIND.ServiceEntry, KIND.Pod, KIND.Node], istioAnalyzer: 'destinationrule.SubsetSelectPodAnalyzer' },
  ['IST0173', 'IST0174'],
  (s, { view }) => analyze(s, view),
)
