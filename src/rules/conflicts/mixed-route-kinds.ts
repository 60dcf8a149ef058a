/**
 * RG0104 MixedRouteKindsOnHostname: an HTTPRoute and a GRPCRoute attached to the same Gateway
 * listener with intersecting effective hostnames, or to the same Service (+ port, same route
 * namespace). The Gateway API spec requires an implementation to accept only the older of the
 * two (GRPCRoute spec, "cross serving"; GEP-1294 for Service parents); the newer gets
 * `Accepted=False`. Reported on the newer. Reads: routes of the other kind on the same parent,
 * narrowed by hostname through the per-parent host index.
 */
import { type K8sObject, KIND, kindKeyOf, sameObject } from '../../model/object.js'
import { hostsMatch, serviceFQDN } from '../../model/hosts.js'
import { effectiveHostnames, isGatewayParent, isServiceParent, route } from '../../model/gatewayapi.js'
import { parentKey } from '../../view/view.js'
import { attach, attachesNowhere, describeParent, refsOverlap, sharedListeners, subjectAttachments } from '../../status/attachment.js'
import { describeAll, finding } from '../messages.js'
import { defineRule, type Finding } from '../types.js'

export const rg0104 = defineRule({
  code: 'RG0104',
  subjects: [KIND.HTTPRoute, KIND.GRPCRoute],
  inputs: [KIND.HTTPRoute, KIND.GRPCRoute, KIND.Gateway, KIND.Namespace],
  check(subject, ctx) {
    const { view, olderThanSubject } = ctx
    const r = route(subject)
    const otherKind = kindKeyOf(subject) === KIND.HTTPRoute ? KIND.GRPCRoute : KIND.HTTPRoute
    const out: Finding[] = []
    for (const parent of r.parentRefs) {
      const others = new Set<K8sObject>()
      let where: { host: string; listener?: string } | undefined
      if (isGatewayParent(parent)) {
        const mine = ctx.pass(subjectAttachments).get(parent)!
        if (attachesNowhere(mine)) continue
        const lookups = r.hostnames.length ? r.hostnames : [undefined]
        for (const h of lookups) {
          for (const p of view.routesOnParent(otherKind, parentKey(parent), h)) {
            if (sameObject(p.obj, subject) || others.has(p.obj) || !olderThanSubject(p.obj)) continue
            const theirs = route(p.obj)
            for (const l of sharedListeners(mine, attach(view, theirs, p.parent))) {
              const host = intersection(effectiveHostnames(r.hostnames, l.hostname), effectiveHostnames(theirs.hostnames, l.hostname))
              if (host !== undefined) {
                others.add(p.obj)
                where ??= { host, listener: l.name }
                break
              }
            }
          }
        }
      } else if (isServiceParent(parent)) {
        for (const p of view.routesOnParent(otherKind, parentKey(parent), undefined)) {
          if (sameObject(p.obj, subject) || !olderThanSubject(p.obj)) continue
          if (route(p.obj).namespace !== r.namespace || !refsOverlap(parent, p.parent)) continue
          others.add(p.obj)
          where ??= { host: serviceFQDN(parent.name, parent.namespace) }
        }
      }
      if (!where) continue
      const list = [...others]
      out.push(
        finding(
          'RG0104',
          subject,
          { host: where.host, parent: describeParent(parent, where.listener), others: describeAll(list) },
          { path: `spec.parentRefs[${parent.index}]`, related: list },
        ),
      )
    }
    return out
  },
})

function intersection(a: string[], b: string[]): string | undefined {
  for (const x of a) for (const y of b) if (hostsMatch(x, y)) return x === '*' ? y : x
  return undefined
}
