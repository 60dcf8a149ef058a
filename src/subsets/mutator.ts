/**
 * The /mutate side of per-subset Services. For an HTTPRoute/GRPCRoute whose backendRef names a
 * missing `<svc>-<subset>` Service, and for a DestinationRule annotated
 * `routeguard.io/subset-services: "true"`, the Services are written (server-side apply) and the
 * route is annotated `routeguard.io/generated-services`. dryRun writes nothing and warns
 * `RG0403 … would generate Service ns/name`. A failed write never blocks admission: the object
 * is admitted with an RG0404 warning and the reconciler retries. Standalone (no API server)
 * only warns.
 *
 * Nothing in the request decides what is written, only which stored objects are looked at:
 * the Service goes in the route's namespace, its selector and ports come from the parent
 * Service in the view and the subset labels from a DestinationRule in the view. A
 * DestinationRule under review counts only once the view holds it (the informer delivered what
 * the API server stored; a pending one, admitted by /validate but not yet delivered, does not
 * count): its subsets and labels are read from the view, never from the request, and a
 * DestinationRule the cluster does not have generates nothing.
 */
import type { AdmissionRequest } from '../admission/review.js'
import type { HandlerDeps, Mutator } from '../admission/handler.js'
import { describeRef, type K8sObject, KIND, kindKeyOf, nameOf, nsOf, rec, refOf } from '../model/object.js'
import { isRouteKind } from '../model/gatewayapi.js'
import { shorten } from '../model/text.js'
import { notWritten, wouldGenerate } from '../rules/subsets/generated-services.js'
import { GENERATED_ANNOTATION, isManaged, missingForRoute, serviceBackendNames, type SubsetService, wantedForDestinationRule } from './subsets.js'
import { apiError } from '../cluster/client.js'
import type { ServiceWriter } from './writer.js'

export function subsetServiceMutator(writer: ServiceWriter | undefined): Mutator {
  return async (object: K8sObject, req: AdmissionRequest, deps: HandlerDeps) => {
    const kind = kindKeyOf(object)
    const warnings: string[] = []
    let wanted: SubsetService[] = []
    if (isRouteKind(kind)) wanted = missingForRoute(deps.view, object)
    else if (kind === KIND.DestinationRule) {
      const stored = deps.view.get(KIND.DestinationRule, nsOf(object), nameOf(object))
      if (!stored) return { object, warnings }
      wanted = wantedForDestinationRule(deps.view, stored).filter((w) => {
        const existing = deps.view.get(KIND.Service, nsOf(stored), w.service.metadata!.name!)
        return !existing || isManaged(existing)
      })
    } else return { object, warnings }
    const subject = shorten(describeRef(refOf(object)))
    const generated: string[] = []
    for (const w of wanted) {
      const id = `${w.service.metadata!.namespace}/${w.service.metadata!.name}`
      const args = {
        service: id,
        base: `${nsOf(w.base)}/${nameOf(w.base)}`,
        subset: w.subset,
        destinationRule: `${nsOf(w.destinationRule)}/${nameOf(w.destinationRule)}`,
      }
      if (w.refused !== undefined) {
        warnings.push(notWritten(subject, id, w.refused))
        continue
      }
      if (req.dryRun || !writer) {
        warnings.push(wouldGenerate(subject, args, req.dryRun ? 'dryRun' : 'standalone'))
        continue
      }
      try {
        await writer.apply(w.service)
        generated.push(id)
      } catch (e) {
        warnings.push(notWritten(subject, id, apiError(e), true))
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
