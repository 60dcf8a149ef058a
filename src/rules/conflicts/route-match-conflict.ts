/**
 * RG0103 RouteMatchConflict: two routes of one kind (HTTPRoute with HTTPRoute, GRPCRoute with
 * GRPCRoute) on the same parent — a Gateway listener (by sectionName/port, allowedRoutes) or a
 * Service (+ port, same route namespace, GEP-1294) — that claim a hostname at equal specificity
 * (the same exact name or the same wildcard; a route without hostnames takes the listener's) with
 * an identical match (see `httpMatch` / `grpcMatch`). Gateway API precedence gives such a tie to
 * the older route (creationTimestamp, then namespace/name), so the newer one's rule never gets
 * traffic. `foo.example.com` against `*.example.com` is an override, not a conflict.
 * Reported on the newer. Reads: the (parent, hostname, match) index, and the parent Gateway.
 * The first finding names one request of the match and where it goes today, traced with the
 * routing model (`routing/gateway-api.ts`) that `routeguard trace` runs.
 */
import { serviceFQDN } from '../../model/hosts.js'
import { arr, type K8sObject, KIND, kindKeyOf, nameOf, nsOf, num, rec, sameObject } from '../../model/object.js'
import { describeRouteMatch, isGatewayParent, isServiceParent, listeners, type ParentRef, route, type RouteMatch, routeMatchPath } from '../../model/gatewayapi.js'
import { describeOutcome, describeRequest, exampleHttpRouteRequest } from '../../routing/examples.js'
import { traceGateway, traceMesh } from '../../routing/gateway-api.js'
import { routeMatchKey, type View } from '../../view/view.js'
import { attach, attachesNowhere, claims, describeParent, refsOverlap, sharedListeners, subjectAttachments } from '../../status/attachment.js'
import { describeAll, finding } from '../messages.js'
import { defineRule, type Finding } from '../types.js'

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
          if (where) out.push(report(subject, describeRouteMatch(subject, match), routeMatchPath(match), where.host, describeParent(parent, where.listener), others, out.length ? '' : example(view, subject, parent, match, where.host, where.listener)))
        }
      } else if (isServiceParent(parent)) {
        const host = serviceFQDN(parent.name, parent.namespace)
        for (const match of r.matches) {
          const others = new Set<K8sObject>()
          for (const p of view.routeMatches(routeMatchKey(kind, parent, r.namespace, match.sig))) {
            if (sameObject(p.obj, subject) || !olderThanSubject(p.obj) || !refsOverlap(parent, p.parent)) continue
            others.add(p.obj)
          }
          if (others.size) out.push(report(subject, describeRouteMatch(subject, match), routeMatchPath(match), host, describeParent(parent), others, out.length ? '' : example(view, subject, parent, match, host, undefined)))
        }
      }
    }
    return out
  },
})

function report(subject: K8sObject, match: string, path: string, host: string, parent: string, others: Set<K8sObject>, example: string): Finding {
  const list = [...others]
  return finding('RG0103', subject, { match, host, parent, others: describeAll(list), example }, { path, related: list })
}

/**
 * `: GET http://host/path … goes to HTTPRoute ns/name rule N and never to this rule` for an
 * HTTPRoute match, traced through the parent (a Gateway's listener, or the Service in the mesh
 * from the route's namespace); `` when the match has no plain example (regular expressions, a
 * GRPCRoute) or the parent is not in the view.
 */
function example(view: View, subject: K8sObject, parent: ParentRef, match: RouteMatch, host: string, listener: string | undefined): string {
  if (subject.kind !== 'HTTPRoute') return ''
  const raw = match.matchIndex === undefined ? undefined : arr(rec(arr(rec(subject.spec).rules)[match.ruleIndex]).matches)[match.matchIndex]
  let result
  let req
  if (isGatewayParent(parent)) {
    const gw = view.get(KIND.Gateway, parent.namespace, parent.name)
    const port = gw && listeners(gw).find((l) => l.name === listener)?.port
    if (!gw || port === undefined) return ''
    req = exampleHttpRouteRequest(raw, host, port)
    if (!req) return ''
    result = traceGateway(view, gw, req)
  } else {
    const svc = view.get(KIND.Service, parent.namespace, parent.name)
    const port = parent.port ?? num(rec(arr(rec(svc?.spec).ports)[0]).port) ?? 80
    req = exampleHttpRouteRequest(raw, host, port)
    if (!req) return ''
    result = traceMesh(view, nsOf(subject), req)
  }
  const r = result.route
  if (!r || (r.kind === subject.kind && r.namespace === nsOf(subject) && r.name === nameOf(subject))) return `: for example ${describeRequest(req)}`
  return `: ${describeRequest(req)} ${describeOutcome(result)} and never to this rule`
}
