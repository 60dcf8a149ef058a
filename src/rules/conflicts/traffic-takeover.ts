/**
 * RG0106 TrafficTakeover: a change in namespace B moves requests that a route in namespace A
 * served to a route in B, on a hostname B does not own. Not a view rule: it judges a change (the
 * moves `impact/impact.ts` finds between the view before and after), so the webhook and
 * `routeguard diff` call it with the impact they computed; a view rule sees one state only.
 *
 * Ownership (config `ownership`, reloadable with the rest of the config):
 * - `oldest`: a hostname belongs to the namespace of the oldest route that serves it where the
 *   request enters, in the view before the change: the oldest route attached to the Gateway
 *   listener whose hostnames match it, the oldest VirtualService bound to the Istio Gateway for it, the oldest
 *   VirtualService or GAMMA route for a mesh host (creationTimestamp, then namespace/name, as the
 *   Gateway API orders routes).
 * - `explicit`: `ownership.hosts` maps hostname patterns (`shop.example.com`, `*.example.com`) to
 *   namespaces; the most specific pattern that matches decides; a hostname no pattern matches is
 *   owned by nobody and not judged.
 * Moves within one namespace, and moves to a namespace that owns the hostname, are only the
 * `traffic:` warning.
 */
import { compareAge, type K8sObject, KIND, kindKeyOf, nsOf } from '../../model/object.js'
import { attachment, GATEWAY_GROUP } from '../../model/gatewayapi.js'
import { hostSpecificity, hostsMatch } from '../../model/hosts.js'
import { describeRequest } from '../../routing/examples.js'
import { describeEntry, type Entry } from '../../impact/classes.js'
import { admissionImpact, type Impact, type Move, routeObject } from '../../impact/impact.js'
import { type ClusterView, parentKey, type View } from '../../view/view.js'
import { finding } from '../messages.js'
import type { Finding } from '../types.js'

/** Config `ownership`. */
export interface Ownership {
  mode: 'off' | 'oldest' | 'explicit'
  /** explicit: hostname patterns and the namespaces that own them */
  hosts?: { hostname: string; namespaces: string[] }[]
}

/** The namespaces that own `host` where `entry` takes it, per `ownership`; undefined when nobody does. */
export function owners(ownership: Ownership, entry: Entry, host: string, before: View): string[] | undefined {
  if (ownership.mode === 'explicit') {
    let best: { hostname: string; namespaces: string[] } | undefined
    for (const h of ownership.hosts ?? []) {
      if (!hostsMatch(h.hostname, host) || (h.hostname.startsWith('*') && !host.endsWith(h.hostname.slice(1)))) continue
      if (!best || hostSpecificity(h.hostname) > hostSpecificity(best.hostname)) best = h
    }
    return best?.namespaces
  }
  if (ownership.mode !== 'oldest') return undefined
  let oldest: K8sObject | undefined
  const consider = (o: K8sObject) => {
    if (!oldest || compareAge(o, oldest) < 0) oldest = o
  }
  if (entry.type === 'gateway') {
    // the routes that serve the hostname on this listener: attached to it, hostnames matching
    const gw = before.get(KIND.Gateway, entry.namespace, entry.name)
    const pk = parentKey({ index: 0, group: GATEWAY_GROUP, kind: 'Gateway', namespace: entry.namespace, name: entry.name })
    for (const k of [KIND.HTTPRoute, KIND.GRPCRoute, KIND.TLSRoute]) {
      for (const p of before.routesOnParent(k, pk, host)) {
        if (gw && !attachment(gw, p.parent, String(p.obj.kind), nsOf(p.obj), before).attached.some((l) => l.name === entry.listener)) continue
        consider(p.obj)
      }
    }
  } else if (entry.type === 'istio-gateway') {
    for (const p of before.virtualServicesOnGatewayFor(`${entry.namespace}/${entry.name}`, host)) consider(p.obj)
  } else {
    for (const p of before.meshHostsMatching(host)) consider(p.obj)
    for (const p of before.serviceRoutesMatching(host)) consider(p.obj)
  }
  return oldest ? [nsOf(oldest)] : undefined
}

/**
 * RG0106 findings for `subject` (the object whose change `impact` describes), one per route and
 * hostname it takes requests from, naming the first request and counting the rest. [] when
 * ownership is off or absent.
 */
export function trafficTakeovers(subject: K8sObject, impact: Impact, ownership: Ownership | undefined, before: View): Finding[] {
  if (!ownership || ownership.mode === 'off') return []
  const ns = nsOf(subject)
  const groups = new Map<string, { move: Move; owners: string[]; host: string; count: number }>()
  for (const m of impact.moves) {
    const from = m.before.route
    const to = m.after.route
    if (!from || !to || from.namespace === to.namespace || to.namespace !== ns) continue
    const host = m.req.host
    if (!host) continue
    const own = owners(ownership, m.entry, host, before)
    if (!own || own.includes(ns)) continue
    const key = `${from.kind}|${from.namespace}|${from.name}|${host}`
    const g = groups.get(key)
    if (g) g.count++
    else groups.set(key, { move: m, owners: own, host, count: 1 })
  }
  const out: Finding[] = []
  for (const g of groups.values()) {
    const from = g.move.before.route!
    out.push(
      finding(
        'RG0106',
        subject,
        {
          request: describeRequest(g.move.req),
          via: describeEntry(g.move.entry),
          from: `${from.kind} ${from.namespace}/${from.name} rule ${from.rule}`,
          more: g.count > 1 ? ` (and ${g.count - 1} more request class${g.count > 2 ? 'es' : ''})` : '',
          hostname: g.host,
          owners: g.owners.join(', '),
          mode: ownership.mode,
          namespace: ns,
        },
        { related: [routeObject(before, from) ?? { kind: from.kind, metadata: { namespace: from.namespace, name: from.name } }] },
      ),
    )
  }
  return out
}

/** Kinds whose stored objects the audit judges for standing takeovers. */
const ROUTE_SUBJECTS: ReadonlySet<string> = new Set([KIND.HTTPRoute, KIND.GRPCRoute, KIND.TLSRoute, KIND.VirtualService])

/**
 * RG0106 for a stored route (the background audit): the requests it holds that another
 * namespace's route would serve without it, on a hostname its namespace does not own. The
 * impact of taking it away (tried on the view and put back), read the other way round; owners
 * are judged on the view as it is, so a route that is itself the oldest on its hostname owns it.
 * `budgetMs`: the impact's own budget (ms) inside the audit's per-object deadline.
 */
export function standingTakeovers(view: ClusterView, obj: K8sObject, ownership: Ownership | undefined, budgetMs = 100): Finding[] {
  if (!ownership || ownership.mode === 'off' || !ROUTE_SUBJECTS.has(kindKeyOf(obj) ?? '')) return []
  const removal = admissionImpact(view, { before: obj }, { budgetMs })
  const held: Impact = { ...removal, moves: removal.moves.map((m) => ({ ...m, before: m.after, after: m.before })) }
  return trafficTakeovers(obj, held, ownership, view)
}
