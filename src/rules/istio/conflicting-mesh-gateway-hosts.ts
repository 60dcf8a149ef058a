/**
 * IST0109 ConflictingMeshGatewayVirtualServiceHosts, with the semantics of Istio's
 * `virtualservice.ConflictingMeshGatewayHostsAnalyzer`:
 * - only mesh VirtualServices (no `gateways`, or the literal `mesh` among them);
 * - each host is FQDN-expanded in the VirtualService's namespace and keyed by exportTo scope
 *   (`*` for public, else each namespace, `.` → own namespace);
 * - two VirtualServices conflict on an identical (scope, host) key, and a namespace-scoped host
 *   also conflicts with every public host that wildcard-matches it (in both directions of who
 *   is the subject); two public hosts conflict only when identical;
 * - one finding per VirtualService, naming every other VirtualService and the first host.
 * Reads: the mesh-host index only (hosts of the subject, and wildcards above them). The message
 * ends with one request to the host and where a sidecar sends it today (`routing/istio.ts`).
 */
import { type K8sObject, KIND, idOf, nameOf, nsOf, sameObject } from '../../model/object.js'
import { describeOutcome, describeRequest, exampleHost } from '../../routing/examples.js'
import { traceIstioMesh } from '../../routing/istio.js'
import type { View } from '../../view/view.js'
import { PUBLIC_SCOPE, virtualService, vsFQDNs } from '../../model/istio.js'
import type { MeshHostPosting } from '../../view/view.js'
import { describeAll, finding } from '../messages.js'
import { defineRule } from '../types.js'

export const ist0109 = defineRule({
  code: 'IST0109',
  subjects: [KIND.VirtualService],
  inputs: [KIND.VirtualService],
  istioAnalyzer: 'virtualservice.ConflictingMeshGatewayHostsAnalyzer',
  check(subject, { view }) {
    const vs = virtualService(subject)
    if (!vs.mesh) return []
    // Istio compares (host, scope) keys; each VirtualService is posted once per host with all
    // its scopes, so the scope test is a lookup: an exact host conflicts in a scope both export
    // to; a matching host conflicts across public and scoped (whichever side is public).
    // built on the first posting that needs it: a VirtualService with 100k exportTo entries and
    // no other VirtualService on its hosts never pays for it
    let scopeIndex: Map<string, number> | undefined
    const indexOf = (s: string) => {
      if (!scopeIndex) {
        scopeIndex = new Map()
        for (let i = 0; i < vs.scopes.length; i++) scopeIndex.set(vs.scopes[i]!, i)
      }
      return scopeIndex.get(s)
    }
    const publicIndex = vs.scopes.indexOf(PUBLIC_SCOPE)
    const firstScoped = vs.scopes.findIndex((s) => s !== PUBLIC_SCOPE)
    const others = new Set<K8sObject>()
    // the message names the first (scope, host) pair in Istio's order: scopes, then hosts
    let first: { scopeAt: number; hostAt: number; host: string } | undefined
    const witness = (scopeAt: number, hostAt: number, host: string) => {
      if (scopeAt >= 0 && (!first || scopeAt < first.scopeAt || (scopeAt === first.scopeAt && hostAt < first.hostAt))) first = { scopeAt, hostAt, host }
    }
    // what another VirtualService's scopes give against mine does not depend on the host:
    // worked out once per other object, so hosts × scopes is never multiplied
    const perObject = (scopeAt: (scopes: readonly string[]) => number) => {
      const memo = new Map<K8sObject, number>()
      return (other: K8sObject, scopes: readonly string[]) => {
        let at = memo.get(other)
        if (at === undefined) memo.set(other, (at = scopeAt(scopes)))
        return at
      }
    }
    // an exact host: the first of my scopes that they export to as well
    const exact = perObject((scopes) => {
      let at = -1
      for (const s of scopes) {
        const i = indexOf(s)
        if (i !== undefined && (at < 0 || i < at)) at = i
      }
      return at
    })
    // a matching (wildcard) host: my public scope meets their scoped ones; my scoped ones meet their public one
    const cross = perObject((scopes) => {
      let at = -1
      if (publicIndex >= 0 && scopes.some((s) => s !== PUBLIC_SCOPE)) at = publicIndex
      if (firstScoped >= 0 && scopes.includes(PUBLIC_SCOPE) && (at < 0 || firstScoped < at)) at = firstScoped
      return at
    })
    const hosts = vsFQDNs(vs)
    // postings of one host, each judged by `scopeAt` (the first of my scopes it conflicts in, or -1)
    const consider = (postings: Iterable<MeshHostPosting>, scopeAt: typeof exact, hostAt: number, host: string) => {
      for (const p of postings) {
        if (sameObject(p.obj, subject)) continue
        const at = scopeAt(p.obj, p.scopes)
        if (at >= 0) {
          others.add(p.obj)
          witness(at, hostAt, host)
        }
      }
    }
    for (let hostAt = 0; hostAt < hosts.length; hostAt++) {
      const host = hosts[hostAt]!
      consider(view.meshHostsExact(host), exact, hostAt, host)
      consider(view.meshHostsMatching(host), cross, hostAt, host)
    }
    if (!first) return []
    const sorted = [...others].sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1))
    return [
      finding(
        'IST0109',
        subject,
        { others: describeAll(sorted), host: first.host, scope: vs.scopes[first.scopeAt]!, example: example(view, subject, first.host, vs.scopes[first.scopeAt]!) },
        { path: 'spec.hosts', related: sorted },
      ),
    ]
  },
})

/**
 * ` GET http://host/ from namespace N goes to VirtualService ns/name rule R today.` for the host
 * in conflict, from a namespace of the scope (the subject's own for `*`); `` when the trace finds no
 * VirtualService or only the subject.
 */
function example(view: View, subject: K8sObject, host: string, scope: string): string {
  const from = scope === '*' ? nsOf(subject) : scope
  const req = { scheme: 'http', host: exampleHost(host), port: 80, method: 'GET', path: '/', headers: {} }
  if (!req.host) return ''
  const result = traceIstioMesh(view, from, req)
  const r = result.route
  if (!r || (r.namespace === nsOf(subject) && r.name === nameOf(subject))) return ''
  return ` ${describeRequest(req)} from namespace ${from} ${describeOutcome(result)} today.`
}
