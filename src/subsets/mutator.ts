/**
 * The /mutate side of per-subset Services. For an HTTPRoute/GRPCRoute whose backendRef names a
 * missing `<svc>-<subset>` Service, and for a DestinationRule annotated
 * `routeguard.io/subset-services: "true"`, the Services are written (server-side apply) and the
 * route is annotated `routeguard.io/generated-services`. dryRun writes nothing and warns
 * `would generate Service ns/name`. A failed write never blocks admission: the object is admitted
 * with a warning and the reconciler retries. Standalone (no API server) only warns.
 */
import type { AdmissionRequest } from '../admission/review.js'
import type { HandlerDeps, Mutator } from '../admission/handler.js'
import { type K8sObject, KIND, kindKeyOf, nsOf, rec } from '../model/object.js'
import { isRouteKind } from '../model/gatewayapi.js'
import { GENERATED_ANNOTATION, isManaged, missingForRoute, serviceBackendNames, type SubsetService, wantedForDestinationRule } from './subsets.js'
import { apiError, type ServiceWriter } from './writer.js'

export function subsetServiceMutator(writer: ServiceWriter | undefined): Mutator {
  return async (object: K8sObject, req: AdmissionRequest, deps: HandlerDeps) => {
    const kind = kindKeyOf(object)
    const warnings: string[] = []
    let wanted: SubsetService[] = []
    if (isRouteKind(kind)) wanted = missingForRoute(deps.view, object)
    else if (kind === KIND.DestinationRule) {
      // judge the DestinationRule under review, not the stored one
      const view = withSubject(deps, object)
      wanted = wantedForDestinationRule(view, object).filter((w) => {
        const existing = deps.view.get(KIND.Service, nsOf(object), w.service.metadata!.name!)
        return !existing || (isManaged(existing) ? true : false)
      })
    } else return { object, warnings }
    const generated: string[] = []
    for (const w of wanted) {
      const id = `${w.service.metadata!.namespace}/${w.service.metadata!.name}`
      if (req.dryRun) {
        warnings.push(`would generate Service ${id}`)
        continue
      }
      if (!writer) {
        warnings.push(`would generate Service ${id} (standalone: nothing is written)`)
        continue
      }
      try {
        await writer.apply(w.service)
        generated.push(id)
      } catch (e) {
        warnings.push(`could not generate Service ${id}: ${apiError(e)}; will retry`)
      }
    }
    if (!isRouteKind(kind) || req.dryRun) return { object, warnings }
    // the annotation lists every generated Service the route uses, including earlier ones
    const ns = nsOf(object)
    for (const name of serviceBackendNames(object)) {
      const existing = deps.view.get(KIND.Service, ns, name)
      if (isManaged(existing) && !generated.includes(`${ns}/${name}`)) generated.push(`${ns}/${name}`)
    }
    if (!generated.length) return { object, warnings }
    const meta = rec(object.metadata)
    const annotations = { ...rec(meta.annotations), [GENERATED_ANNOTATION]: generated.sort().join(',') }
    return { object: { ...object, metadata: { ...meta, annotations } }, warnings }
  }
}

/** A view that answers DestinationRule lookups with the object under review in place of its stored version. */
function withSubject(deps: HandlerDeps, dr: K8sObject) {
  const view = deps.view
  return {
    ...view,
    get: view.get.bind(view),
    destinationRulesFor: (host: string) => [...[...view.destinationRulesFor(host)].filter((d) => !(nsOf(d) === nsOf(dr) && d.metadata?.name === dr.metadata?.name)), dr],
  } as typeof view
}

