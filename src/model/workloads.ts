/**
 * Workloads: what a label selector (a Service's, a DestinationRule subset's, an Istio Gateway's)
 * can select. In a cluster these are Pods; in manifests as people keep them in git they are the
 * Pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and Argo
 * Rollouts, whose Pods carry the template's labels in the object's namespace. Both count, so
 * `analyze` on manifests and the webhook on a live cluster answer the same selector questions.
 */
import { type K8sObject, KIND, type KindKey, rec, str, stringMap } from './object.js'

/** Kinds that are, or make, Pods: the Pod itself and every kind with a Pod template. */
export const WORKLOAD_KINDS: ReadonlySet<KindKey> = new Set([
  KIND.Pod,
  KIND.Deployment,
  KIND.StatefulSet,
  KIND.DaemonSet,
  KIND.ReplicaSet,
  KIND.Job,
  KIND.CronJob,
  KIND.Rollout,
])

/** The Pod template of a workload (`spec.template`; a CronJob's `spec.jobTemplate.spec.template`), or undefined for a Pod. */
function template(obj: K8sObject, kind: KindKey): Record<string, unknown> | undefined {
  if (kind === KIND.Pod) return undefined
  const spec = rec(obj.spec)
  return rec(kind === KIND.CronJob ? rec(rec(spec.jobTemplate).spec).template : spec.template)
}

/**
 * The labels a workload's Pods carry: a Pod's own labels, else its template's
 * (`spec.template.metadata.labels`). A new object each call (callers may add to it).
 */
export function workloadLabels(obj: K8sObject, kind: KindKey): Record<string, string> {
  const t = template(obj, kind)
  return stringMap(t === undefined ? obj.metadata?.labels : rec(t.metadata).labels)
}

/** The Node a workload's Pods run on, when it is known (a scheduled Pod's `spec.nodeName`, a template's pinned `nodeName`). */
export function workloadNode(obj: K8sObject, kind: KindKey): string | undefined {
  const t = template(obj, kind)
  return str(rec(t === undefined ? obj.spec : t.spec).nodeName)
}
