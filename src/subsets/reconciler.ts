/**
 * Keeps generated subset Services right (runs on the audit leader, after each pass):
 * - wanted = every subset Service an opted-in DestinationRule asks for, plus every
 *   `<svc>-<subset>` backendRef of a route that resolves to a DestinationRule subset;
 * - a wanted Service that is missing, or managed by routeguard but with a stale selector or
 *   ports (parent Service or subset labels changed), is applied;
 * - a managed Service that is no longer wanted (subset removed, route gone) is deleted, but
 *   not while a DestinationRule or route is pending (admitted, not yet stored: see
 *   view/pending.ts): pending objects never decide a write, so a pending version would hide the
 *   stored one that still wants the Service; the deletion waits for the next pass;
 * - a Service of that name that routeguard does not manage is never touched (RG0402 tells the
 *   user); writes use server-side apply without force, so other field managers win.
 * A failed write is logged and retried on the next pass.
 */
import { type K8sObject, KIND, kindKeyOf, nameOf, nsOf } from '../model/object.js'
import { isRouteKind } from '../model/gatewayapi.js'
import type { ClusterView } from '../view/view.js'
import { isManaged, resolveSubsetBackend, sameSubsetSpec, serviceBackendNames, type SubsetService, wantedForDestinationRule } from './subsets.js'
import { apiError } from '../cluster/client.js'
import type { ServiceWriter } from './writer.js'
import type { PendingWrites } from '../view/pending.js'

export interface ReconcileResult {
  applied: string[]
  deleted: string[]
  failed: string[]
}

export class SubsetReconciler {
  constructor(
    private readonly view: ClusterView,
    private readonly writer: ServiceWriter,
    private readonly log?: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void },
    /** the cluster-mode pending writes, if any (deletions wait while DestinationRules or routes are pending) */
    private readonly pending?: Pick<PendingWrites, 'holdsAny'>,
  ) {}

  /** Every subset Service that should exist, by `ns/name`. One walk over routes and DestinationRules. */
  wanted(): Map<string, SubsetService> {
    const out = new Map<string, SubsetService>()
    // a refused subset (selectorConflict) is never wanted: a Service once written for it is deleted
    const add = (s: SubsetService) => void (s.refused === undefined && out.set(`${s.service.metadata!.namespace}/${s.service.metadata!.name}`, s))
    for (const obj of this.view.all()) {
      const kind = kindKeyOf(obj)
      if (kind === KIND.DestinationRule) wantedForDestinationRule(this.view, obj).forEach(add)
      else if (isRouteKind(kind)) {
        for (const name of serviceBackendNames(obj)) {
          const existing = this.view.get(KIND.Service, nsOf(obj), name)
          if (existing && !isManaged(existing)) continue
          const s = resolveSubsetBackend(this.view, nsOf(obj), name)
          if (s) add(s)
        }
      }
    }
    return out
  }

  async reconcile(): Promise<ReconcileResult> {
    const wanted = this.wanted()
    const result: ReconcileResult = { applied: [], deleted: [], failed: [] }
    for (const [id, s] of wanted) {
      const existing = this.view.get(KIND.Service, s.service.metadata!.namespace!, s.service.metadata!.name!)
      if (existing && !isManaged(existing)) continue
      if (existing && sameSubsetSpec(existing, s.service)) continue
      try {
        await this.writer.apply(s.service)
        result.applied.push(id)
      } catch (e) {
        result.failed.push(id)
        this.log?.warn({ service: id, err: apiError(e) }, 'subset Service not applied; retrying next pass')
      }
    }
    if (this.pending?.holdsAny(DECIDING_KINDS)) return this.done(result)
    const managed: K8sObject[] = []
    for (const o of this.view.all()) if (kindKeyOf(o) === KIND.Service && isManaged(o)) managed.push(o)
    for (const svc of managed) {
      const id = `${nsOf(svc)}/${nameOf(svc)}`
      if (wanted.has(id)) continue
      try {
        await this.writer.remove(nsOf(svc), nameOf(svc))
        result.deleted.push(id)
      } catch (e) {
        result.failed.push(id)
        this.log?.warn({ service: id, err: apiError(e) }, 'subset Service not deleted; retrying next pass')
      }
    }
    return this.done(result)
  }

  private done(result: ReconcileResult): ReconcileResult {
    if (result.applied.length || result.deleted.length) this.log?.info({ ...result }, 'subset Services reconciled')
    return result
  }
}

/** Kinds whose objects decide which subset Services are wanted. */
const DECIDING_KINDS: ReadonlySet<string> = new Set([KIND.DestinationRule, KIND.HTTPRoute, KIND.GRPCRoute])
