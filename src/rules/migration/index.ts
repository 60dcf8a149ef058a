/** Migration (RG03xx): features the target implementation lacks, and Istio features without a Gateway API equivalent. */
import type { Rule } from '../types.js'
import { rg0301 } from './unsupported-feature.js'
import { rg0302 } from './no-gateway-api-equivalent.js'

export const MIGRATION_RULES: readonly Rule[] = [rg0301, rg0302]
