/**
 * Gateway API status (RG02xx): what a conformant controller would put in a route's or a
 * Gateway's status conditions, predicted by the models in `status/`.
 */
import type { Rule } from '../types.js'
import { routeStatusRules } from './route-status.js'
import { rg0209, rg0210, rg0211, rg0212 } from './listeners.js'

export const GATEWAY_API_RULES: readonly Rule[] = [...routeStatusRules, rg0209, rg0210, rg0211, rg0212]
