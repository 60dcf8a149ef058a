/**
 * RG0213 BackendTLSPolicyNotValid: what the predicted BackendTLSPolicy status
 * (`status/backend-tls-policy.ts`, after the Gateway API v1.6.1 BackendTLSPolicy field rules)
 * says is wrong with a policy. Reads the policy's target Services, the other policies of its
 * namespace and the ConfigMaps its caCertificateRefs name.
 */
import { KIND } from '../../model/object.js'
import { BACKEND_TLS_POLICY_INPUTS, predictBackendTLSPolicyStatus } from '../../status/backend-tls-policy.js'
import { analyzerRules } from '../types.js'

export const { RG0213: rg0213 } = analyzerRules(
  { subjects: [KIND.BackendTLSPolicy], inputs: BACKEND_TLS_POLICY_INPUTS },
  ['RG0213'],
  (s, ctx) => predictBackendTLSPolicyStatus(s, ctx.view, ctx.olderThanSubject).findings,
)
