/**
 * What the view keeps of an object from the API server: only what rules read. Dropped:
 * `managedFields`, the `kubectl.kubernetes.io/last-applied-configuration` annotation, and
 * `status` (except a route's `status.parents[]` parentRef, controllerName and condition
 * type/status/reason). Namespaces keep only metadata; metadata-only kinds (Pods) keep name,
 * namespace, uid, resourceVersion and labels, and never a body, even when a server that cannot
 * send `PartialObjectMetadata` sends the whole object. Typed client objects (Dates) become plain
 * JSON (`typed`). The result is a new top-level object that may share `spec` with the input.
 */
import type { K8sObject } from '../model/object.js'

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration'

function iso(v: unknown): string | undefined {
  if (v instanceof Date) return v.toISOString().replace(/\.\d{3}Z$/, 'Z')
  return typeof v === 'string' ? v : undefined
}

export function strip(obj: K8sObject, apiVersion: string, kind: string, typed = false, metadataOnly = false): K8sObject {
  const m = (obj.metadata ?? {}) as Record<string, unknown>
  const metadata: Record<string, unknown> = { name: m.name }
  if (m.namespace) metadata.namespace = m.namespace
  if (m.uid) metadata.uid = m.uid
  if (m.resourceVersion) metadata.resourceVersion = m.resourceVersion
  if (metadataOnly) {
    // what selectors read: a Pod's annotations (sidecar status, checksums) are often kilobytes
    if (m.labels && typeof m.labels === 'object') metadata.labels = m.labels
    return { apiVersion, kind, metadata: metadata as K8sObject['metadata'] }
  }
  if (m.generation !== undefined) metadata.generation = m.generation
  const ct = iso(m.creationTimestamp)
  if (ct) metadata.creationTimestamp = ct
  const dt = iso(m.deletionTimestamp)
  if (dt) metadata.deletionTimestamp = dt
  if (m.labels && typeof m.labels === 'object') metadata.labels = m.labels
  if (m.annotations && typeof m.annotations === 'object') {
    const { [LAST_APPLIED]: _dropped, ...rest } = m.annotations as Record<string, string>
    if (Object.keys(rest).length) metadata.annotations = rest
  }
  if (Array.isArray(m.ownerReferences) && m.ownerReferences.length) metadata.ownerReferences = m.ownerReferences
  const out: K8sObject = { apiVersion, kind, metadata: metadata as K8sObject['metadata'] }
  if (kind === 'Namespace') return out
  // JSON from the wire is kept as parsed (no copy: parsed objects are the most compact in V8);
  // typed client objects (class instances, Dates) are turned into plain JSON values
  if (obj.spec !== undefined) out.spec = typed ? plain(obj.spec) : obj.spec
  // the addresses Istio allocated to a ServiceEntry (IST0134 reads them)
  // an EndpointSlice's endpoints are top-level: keep each one's targetRef and readiness only
  if (kind === 'EndpointSlice' && Array.isArray((obj as { endpoints?: unknown }).endpoints)) {
    out.endpoints = ((obj as { endpoints: unknown[] }).endpoints.slice(0, 1000) as Record<string, unknown>[]).map((e) => {
      const ref = (e?.targetRef ?? undefined) as Record<string, unknown> | undefined
      const ready = (e?.conditions as Record<string, unknown> | undefined)?.ready
      return { ...(ref ? { targetRef: { kind: ref.kind, namespace: ref.namespace, name: ref.name } } : {}), ...(ready !== undefined ? { conditions: { ready } } : {}) }
    })
  }
  if (kind === 'ServiceEntry' && obj.status && typeof obj.status === 'object') {
    const addresses = (obj.status as { addresses?: unknown }).addresses
    if (Array.isArray(addresses) && addresses.length) out.status = { addresses: addresses.slice(0, 64) }
  }
  if ((kind === 'HTTPRoute' || kind === 'GRPCRoute') && obj.status && typeof obj.status === 'object') {
    const parents = (obj.status as { parents?: unknown }).parents
    if (Array.isArray(parents)) {
      out.status = {
        parents: parents.map((p: Record<string, unknown>) => ({
          parentRef: p.parentRef,
          controllerName: p.controllerName,
          conditions: Array.isArray(p.conditions)
            ? p.conditions.map((c: Record<string, unknown>) => ({ type: c.type, status: c.status, reason: c.reason }))
            : [],
        })),
      }
    }
  }
  return out
}

/** Typed client objects (class instances, Dates, IntOrString) as plain JSON values. */
function plain(v: unknown): unknown {
  if (v instanceof Date) return iso(v)
  if (Array.isArray(v)) return v.map(plain)
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = plain(x)
    return o
  }
  return v
}
