/**
 * Which listeners a route's parentRef attaches to: the model the conflict rules and the predicted
 * route status share. Follows Gateway API
 * attachment (parentRef sectionName/port, listener allowedRoutes namespaces and kinds) and
 * hostname intersection. When the parent Gateway is not in the view (analyze on a partial set of
 * files), attachment is judged from the parentRefs alone: two refs overlap unless their
 * sectionNames or ports differ.
 */
import { type K8sObject, KIND } from '../model/object.js'
import { hostsMatch } from '../model/hosts.js'
import { type Attachment, attachment, isGatewayParent, type ParentRef, route, type RouteFacts } from '../model/gatewayapi.js'
import type { View } from '../view/view.js'

/**
 * What one parentRef of a route reaches, as the conflict rules and route status read it: the
 * staged attachment to the parent Gateway (`attachment` in model/gatewayapi.ts: selected,
 * kind-allowed and attached listeners), or undefined when the Gateway is not in the view.
 */
export interface RefAttachment {
  ref: ParentRef
  gateway: Attachment | undefined
}

/** The attachment of route `r` through `ref`; `gateway` is undefined when the Gateway is not in the view. */
export function attach(view: View, r: RouteFacts, ref: ParentRef): RefAttachment {
  const gw = view.get(KIND.Gateway, ref.namespace, ref.name)
  return { ref, gateway: gw && attachment(gw, ref, r.kind, r.namespace, view) }
}

/** The Gateway is known and none of its listeners admits the route: nothing to conflict on. */
export function attachesNowhere(a: RefAttachment): boolean {
  return a.gateway !== undefined && a.gateway.attached.length === 0
}

/**
 * The subject route's attachment for each of its Gateway parentRefs, computed once per
 * evaluation (`ctx.pass(subjectAttachments)`): the conflict rules and route status start from it.
 */
export function subjectAttachments(subject: K8sObject, ctx: { view: View }): Map<ParentRef, RefAttachment> {
  const r = route(subject)
  const out = new Map<ParentRef, RefAttachment>()
  for (const p of r.parentRefs) if (isGatewayParent(p)) out.set(p, attach(ctx.view, r, p))
  return out
}

/** Listeners both attachments reach; for an unknown Gateway one pseudo-listener when the refs overlap. */
export function sharedListeners(a: RefAttachment, b: RefAttachment): { name: string; hostname: string | undefined }[] {
  if (a.gateway && b.gateway) {
    const theirs = b.gateway.attached
    return a.gateway.attached.filter((l) => theirs.some((m) => m.name === l.name))
  }
  if (!refsOverlap(a.ref, b.ref)) return []
  const name = a.ref.sectionName ?? b.ref.sectionName ?? (a.ref.port ?? b.ref.port)?.toString() ?? '*'
  return [{ name, hostname: undefined }]
}

/** Do two parentRefs to the same parent select a common section? Unset sectionName/port select all. */
export function refsOverlap(a: ParentRef, b: ParentRef): boolean {
  const section = a.sectionName === undefined || b.sectionName === undefined || a.sectionName === b.sectionName
  const port = a.port === undefined || b.port === undefined || a.port === b.port
  return section && port
}

/**
 * The hostnames a route claims on a listener, as written (precedence compares declared
 * specificity): its hostnames that intersect the listener's, or the listener's own hostname
 * (`*` for none) when the route sets none.
 */
export function claims(r: RouteFacts, hostname: string | undefined): string[] {
  if (r.hostnames.length === 0) return [hostname ?? '*']
  return r.hostnames.filter((h) => hostname === undefined || hostsMatch(h, hostname))
}

export function describeParent(ref: ParentRef, listener?: string): string {
  const base = `${ref.kind} ${ref.namespace}/${ref.name}`
  if (ref.kind === 'Service') return ref.port !== undefined ? `${base} port ${ref.port}` : base
  return listener && listener !== '*' ? `${base} listener ${listener}` : base
}
