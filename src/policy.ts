/**
 * Policy: what each finding does at admission. Per rule `deny | warn | off`; defaults by level
 * (error → deny, warning → warn, info → off). Exempt namespaces get no findings at all.
 */
import { CATALOGUE, type Code, type Severity } from './rules/messages.js'
import type { Finding } from './rules/types.js'

export type Action = 'deny' | 'warn' | 'off'

export interface Policy {
  rules: Partial<Record<Code, Action>>
  exemptNamespaces: string[]
}

export const DEFAULT_POLICY: Policy = { rules: {}, exemptNamespaces: [] }

const BY_LEVEL: Record<Severity, Action> = { error: 'deny', warning: 'warn', info: 'off' }

export function actionFor(policy: Policy, code: Code): Action {
  return policy.rules[code] ?? BY_LEVEL[CATALOGUE[code].level]
}

/** Splits findings into the ones that deny and the ones that only warn. */
export function decide(policy: Policy, namespace: string, findings: Finding[]): { deny: Finding[]; warn: Finding[] } {
  if (policy.exemptNamespaces.includes(namespace)) return { deny: [], warn: [] }
  const deny: Finding[] = []
  const warn: Finding[] = []
  for (const f of findings) {
    const a = actionFor(policy, f.code)
    if (a === 'deny') deny.push(f)
    else if (a === 'warn') warn.push(f)
  }
  return { deny, warn }
}
