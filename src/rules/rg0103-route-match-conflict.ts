/**
 * RG0103 RouteMatchConflict: two routes of one kind (HTTPRoute with HTTPRoute, GRPCRoute with
 * GRPCRoute) on the same parent — a Gateway listener (by sectionName/port, allowedRoutes) or a
 * Service (+ port, same route namespace, GEP-1294) — that claim a hostname at equal specificity
 * (the same exact name or the same wildcard; a route without hostnames takes the listener's) with
 * an identical match (see `httpMatch` / `grpcMatch`). Gateway API precedence gives such a tie to
 * the older route (creationTimestamp, then namespace/name), so the newer one's rule never gets
 * traffic. `foo.example.com` against `*.example.com` is an override, not a conflict.
 * Reported on the newer. Reads: the (parent, hostname, match) index, and the parent Gateway.
 */
import { serviceFQDN } from '../model/hosts.js'
import { type K8sObject, KIND, kindKeyOf, sameObject } from '../model/object.js'
import { describeRouteMatch, isGatewayParent, isServiceParent, route, routeMatchPath } from '../model/gatewayapi.js'
import { routeMatchKey } from '../view/view.js'
import { attach, attachesNowhere, claims, describeParent, refsOverlap, sharedListeners, subjectAttachments } from './attachment.js'
import { describeAll, finding } from './messages.js'
import { defineRule, type Finding } from './types.js'

export const rg0103 = defineRule({
  code: 'RG0103',
  subjects: [KIND.HTTPRoute, KIND.GRPCRoute],
  inputs: [KIND.HTTPRoute, KIND.GRPCRoute, KIND.Gateway, KIND.Namespace],
  check(subject, ctx) {
    const { view, olderThanSubject } = ctx
    const r = route(subject)
    const kind = kindKeyOf(subject)!
    const out: Finding[] = []
    for (const parent of r.parentRefs) {
      if (isGatewayParent(parent)) {
        const mine = ctx.pass(subjectAttachments).get(parent)!
        if (attachesNowhere(mine)) continue
        const keys = r.hostnames.length
          ? [...r.hostnames, '']
          : ['', ...new Set((mine.gateway?.attached ?? []).map((l) => l.hostname).filter((h): h is string => h !== undefined))]
        for (const match of r.matches) {
          const others = new Set<K8sObject>()
          let where: { host: string; listener: string } | undefined
          for (const key of keys) {
            for (const p of view.routeMatches(routeMatchKey(kind, parent, key, match.sig))) {
              if (sameObject(p.obj, subject) || others.has(p.obj) || !olderThanSubject(p.obj)) continue
              const theirs = route(p.obj)
              for (const l of sharedListeners(mine, attach(view, theirs, p.parent))) {
                const common = claims(r, l.hostname).filter((h) => claims(theirs, l.hostname).includes(h))
                if (common.length) {
                  others.add(p.obj)
                  where ??= { host: common[0]!, listener: l.name }
                  break
                }
              }
            }
          }
          if (where) out.push(report(subject, describeRouteMatch(subject, match), routeMatchPath(match), where.host, describeParent(parent, where.listener), others))
        }
      } else if (isServiceParent(parent)) {
        const host = serviceFQDN(parent.name, parent.namespace)
        for (const match of r.matches) {
          const others = new Set<K8sObject>()
          for (const p of view.routeMatches(routeMatchKey(kind, parent, r.namespace, match.sig))) {
            if (sameObject(p.obj, subject) || !olderThanSubject(p.obj) || !refsOverlap(parent, p.parent)) continue
            others.add(p.obj)
          }
          if (others.size) out.push(report(subject, describeRouteMatch(subject, match), routeMatchPath(match), host, describeParent(parent), others))
        }
      }
    }
    return out
  },
})

function report(subject: K8sObject, match: string, path: string, host: string, parent: string, others: Set<K8sObject>): Finding {
  const list = [...others]
  return finding('RG0103', subject, { match, host, parent, others: describeAll(list) }, { path, related: list })
}
