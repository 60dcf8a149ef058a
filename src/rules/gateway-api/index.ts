/**
 * Gateway API status (RG02xx): what a conformant controller would put in a route's, a
 * Gateway's or a BackendTLSPolicy's status conditions, predicted by the models in `status/`.
 */
import type { Rule } from '../types.js'
import { routeStatusRules } from './route-status.js'
import { rg0213 } from './backend-tls-policy.js'
import { rg0209, rg0210, rg0211, rg0212 } from './listeners.js'

export const GATEWAY_API_RULES: readonly Rule[] = [...routeStatusRules, rg0209, rg0210, rg0211, rg0212, rg0213]
