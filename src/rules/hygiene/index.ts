/** Hygiene (RG05xx): config that works but not as it reads, or that a proxy would refuse. */
import type { Rule } from '../types.js'
import { rg0501 } from './repeated-route-destination.js'
import { rg0502 } from './invalid-regex.js'
import { rg0503 } from './namespace-not-found.js'

export const HYGIENE_RULES: readonly Rule[] = [rg0501, rg0502, rg0503]
