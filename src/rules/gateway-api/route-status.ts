/**
 * RG0201–RG0208: what the predicted route status (`status/route-status.ts`, after the Gateway API
 * v1.6.1 route conditions) says is wrong with an HTTPRoute, GRPCRoute, TLSRoute or TCPRoute, one
 * rule per condition reason (ParentNotFound, NotAllowedByListeners, NoMatchingListenerHostname,
 * NoMatchingParent, BackendNotFound, RefNotPermitted, InvalidKind, UnsupportedValue). One pass per
 * evaluation; reads the parent Gateways and Services, Namespaces (allowedRoutes selectors) and
 * ReferenceGrants.
 */
import { KIND } from '../../model/object.js'
import { subjectAttachments } from '../../status/attachment.js'
import { predictRouteStatus, ROUTE_KINDS } from '../../status/route-status.js'
import { analyzerRules } from '../types.js'

export const routeStatusRules = Object.values(
  analyzerRules(
    { subjects: ROUTE_KINDS, inputs: [KIND.Gateway, KIND.Service, KIND.Namespace, KIND.ReferenceGrant] },
    ['RG0201', 'RG0202', 'RG0203', 'RG0204', 'RG0205', 'RG0206', 'RG0207', 'RG0208'],
    (s, ctx) => predictRouteStatus(s, ctx.view, ctx.pass(subjectAttachments)).findings,
  ),
)
