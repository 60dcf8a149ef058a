/**
 * Subsets (RG04xx): DestinationRule subsets and the per-subset Services routeguard generates.
 * RG0403 and RG0404 are /mutate's warnings (`generated-services.ts`), not view rules.
 */
import type { Rule } from '../types.js'
import { rg0402 } from './subset-service-name-taken.js'
import { rg0405 } from './subset-without-labels.js'
import { rg0406 } from './subset-selects-no-endpoint.js'

export const SUBSET_RULES: readonly Rule[] = [rg0402, rg0405, rg0406]
