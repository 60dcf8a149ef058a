/**
 * RG0209 ListenerConflicted, RG0210 GatewayAddressConflict, RG0211 ListenerNotValid,
 * RG0212 OverlappingTLSConfig: what the
 * predicted Gateway status (`status/gateway-status.ts`, after the Gateway API v1.6.1 listener
 * rules) says is wrong with a Gateway API Gateway. One pass per evaluation; reads the Gateways
 * that share an address with the subject and ReferenceGrants of certificate namespaces.
 */
import { KIND } from '../../model/object.js'
import { GATEWAY_STATUS_INPUTS, predictGatewayStatus } from '../../status/gateway-status.js'
import { analyzerRules } from '../types.js'

export const { RG0209: rg0209, RG0210: rg0210, RG0211: rg0211, RG0212: rg0212 } = analyzerRules(
  { subjects: [KIND.Gateway], inputs: GATEWAY_STATUS_INPUTS },
  ['RG0209', 'RG0210', 'RG0211', 'RG0212'],
  (s, ctx) => predictGatewayStatus(s, ctx.view, ctx.olderThanSubject).findings,
)
