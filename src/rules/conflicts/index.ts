/** Conflicts (RG01xx): two objects that claim the same traffic, where one silently loses. */
import type { Rule } from '../types.js'
import { rg0101 } from './gateway-route-shadowed.js'
import { rg0102 } from './mesh-route-ownership.js'
import { rg0103 } from './route-match-conflict.js'
import { rg0104 } from './mixed-route-kinds.js'
import { rg0105 } from './destinationrule-merge.js'

export const CONFLICT_RULES: readonly Rule[] = [rg0101, rg0102, rg0103, rg0104, rg0105]
