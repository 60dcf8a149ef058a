/**
 * After Istio's `destinationrule.SubsetSelectPodAnalyzer` (`analyzers/destinationrule/subset.go`):
 *
 * - IST0174 when a DestinationRule's host resolves to no visible Service or ServiceEntry (Istio's
 *   `util.GetDestinationHost`, the lookup of `destination-hosts.ts`). Where routeguard is
 *   stricter about false alarms than Istio: a **wildcard** host (`*.local`, the documented
 *   mesh-wide mTLS DestinationRule in `istio-system`; `*.example.com`) resolves when any visible
 *   Service or ServiceEntry host falls under it. Istio's lookup only knows wildcard ServiceEntry
 *   hosts that cover the wildcard, so `istioctl analyze` reports IST0174 on `*.local`; a
 *   DestinationRule that applies to every Service of the mesh is not one with an unknown host.
 * - IST0173 for each subset whose selector selects no workload. As Istio does, the selector is the
 *   ServiceEntry's `workloadSelector.labels` merged with the subset's `labels` (the subset wins),
 *   and workloads of **every namespace** count (Istio's analyzer does not restrict them to the
 *   host's namespace). A workload is a Pod or a Pod template (Deployment, StatefulSet, DaemonSet,
 *   ReplicaSet, Job, CronJob, Argo Rollout: `model/workloads.ts`), and a ServiceEntry's inline
 *   `endpoints[].labels`. Labels are completed with the Node's non-empty topology labels
 *   (`topology.kubernetes.io/region`, `…/zone`, `topology.istio.io/subzone`) and
 *   `kubernetes.io/hostname` = the Node's name, as `augmentPodLabelsWithNodeTopology` does (a
 *   view without Nodes, the live one, leaves those labels unchecked). An
 *   empty selector (no subset labels, no workloadSelector) selects every workload of the host:
 *   never IST0173. Skipped where the view does not hold workloads, and for wildcard hosts.
 *
 * Reads: the Service/ServiceEntry host index, workloads by label, Nodes by name.
 */
import { arr, type K8sObject, KIND, nsOf, rec, str, stringMap } from '../../model/object.js'
import { hostsMatch, isWildcard, toFQDN } from '../../model/hosts.js'
import { exportScopes, PUBLIC_SCOPE, selects } from '../../model/istio.js'
import type { ServiceHostPosting, View, Workload } from '../../view/view.js'
import { resolveDestination } from './destination-hosts.js'
import { WORKLOAD_KINDS } from '../../model/workloads.js'
import { finding } from '../messages.js'
import { analyzerRules, type Finding } from '../types.js'

const TOPOLOGY = ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone']
const HOSTNAME = 'kubernetes.io/hostname'
const NODE_LABELS = new Set([...TOPOLOGY, HOSTNAME])

/** A workload's labels with its Node's topology labels added (Istio's `augmentPodLabelsWithNodeTopology`). */
function augmented(view: View, w: Workload): Record<string, string> {
  const node = w.node === undefined ? undefined : view.get(KIND.Node, '', w.node)
  if (!node) return w.labels
  const labels = { ...w.labels }
  const nodeLabels = stringMap(node.metadata?.labels)
  for (const k of TOPOLOGY) if (nodeLabels[k]) labels[k] = nodeLabels[k]
  labels[HOSTNAME] = w.node!
  return labels
}

/** Does some workload (or inline endpoint) carry every label of `selector`? */
function selectsSomething(view: View, selector: Record<string, string>, endpoints: Record<string, string>[]): boolean {
  if (Object.keys(selector).length === 0) return true
  if (endpoints.some((labels) => selects(selector, labels))) return true
  // the index knows the workloads' own labels; node labels are checked on the candidates
  const plain: Record<string, string> = {}
  for (const [k, v] of Object.entries(selector)) if (!NODE_LABELS.has(k)) plain[k] = v
  // a live view keeps no Nodes (and Pods without spec.nodeName): node labels cannot be checked
  // there, so a workload that has the rest of the labels counts
  const nodes = view.covers(KIND.Node)
  for (const w of view.workloadsSelected(plain)) if (!nodes || selects(selector, augmented(view, w))) return true
  return false
}

/** A wildcard host resolves when some visible Service or ServiceEntry host falls under it (see above). */
function resolveWildcard(view: View, host: string, scopes: ReadonlySet<string>): ServiceHostPosting | undefined {
  for (const p of view.serviceHostsMatching(host)) {
    if ((p.scope === PUBLIC_SCOPE || scopes.has(p.scope)) && hostsMatch(host, p.host)) return p
  }
  return undefined
}

function analyze(subject: K8sObject, view: View): Finding[] {
  const ns = nsOf(subject)
  const spec = rec(subject.spec)
  const raw = str(spec.host) ?? ''
  const host = toFQDN(raw, ns)
  const scopes = exportScopes(arr(spec.exportTo).filter((x): x is string => typeof x === 'string'), ns)
  const lookup = new Set(scopes.includes(PUBLIC_SCOPE) ? [ns] : scopes)
  const found = resolveDestination(view, host, lookup) ?? (isWildcard(host) ? resolveWildcard(view, host, lookup) : undefined)
  const out: Finding[] = []
  if (!found) {
    if (view.covers(KIND.Service) && view.covers(KIND.ServiceEntry)) out.push(finding('IST0174', subject, { host: raw }, { path: 'spec.host' }))
    return out
  }
  if (!view.covers(KIND.Pod) || isWildcard(host)) return out
  const se = found.obj.kind === 'ServiceEntry' ? rec(found.obj.spec) : undefined
  const workloadSelector = stringMap(rec(se?.workloadSelector).labels)
  const endpoints = arr(se?.endpoints).map((e) => stringMap(rec(e).labels))
  arr(spec.subsets).forEach((s, i) => {
    const labels = stringMap(rec(s).labels)
    if (selectsSomething(view, { ...workloadSelector, ...labels }, endpoints)) return
    out.push(finding('IST0173', subject, { subset: str(rec(s).name) ?? `#${i}`, host: raw, labels: JSON.stringify(labels) }, { path: `spec.subsets[${i}]` }))
  })
  return out
}

export const { IST0173: ist0173, IST0174: ist0174 } = analyzerRules(
  {
    subjects: [KIND.DestinationRule],
    inputs: [KIND.Service, KIND.ServiceEntry, ...WORKLOAD_KINDS, KIND.Node],
    istioAnalyzer: 'destinationrule.SubsetSelectPodAnalyzer',
  },
  ['IST0173', 'IST0174'],
  (s, { view }) => analyze(s, view),
)
