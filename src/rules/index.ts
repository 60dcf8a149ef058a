/**
 * The rule registry: every rule routeguard knows, in catalogue order, gathered from the family
 * folders. A new rule goes in the folder of its code's family (`catalogue.ts` says which), one
 * file per analyzer, listed in that folder's `index.ts`.
 */
import { CONFLICT_RULES } from './conflicts/index.js'
import { GATEWAY_API_RULES } from './gateway-api/index.js'
import { HYGIENE_RULES } from './hygiene/index.js'
import { ISTIO_RULES } from './istio/index.js'
import { MIGRATION_RULES } from './migration/index.js'
import { SUBSET_RULES } from './subsets/index.js'
import type { Rule } from './types.js'

export const RULES: readonly Rule[] = [...ISTIO_RULES, ...CONFLICT_RULES, ...GATEWAY_API_RULES, ...MIGRATION_RULES, ...SUBSET_RULES, ...HYGIENE_RULES]

/** Kinds any rule is evaluated for: the kinds the webhook has something to say about. */
export const SUBJECT_KINDS: ReadonlySet<string> = new Set(RULES.flatMap((r) => r.subjects))
