/**
 * Existing violations: on UPDATE, a change is denied for the findings it introduces, never for
 * the ones the object already had (created before routeguard, or behind its back). Kyverno calls
 * this `allowExistingViolations` and has it on by default; so does routeguard
 * (`Policy.allowExistingViolations`).
 *
 * Kyverno compares per policy rule; routeguard compares per finding, so an UPDATE that keeps an
 * old IST0109 but adds a new conflicting host is still denied for the new one.
 */
import { evaluateBounded, MAX_ADMISSION_FINDINGS_PER_CODE, type EvaluateOptions } from '../engine.js'
import { idOf, type K8sObject } from '../model/object.js'
import type { Finding } from '../rules/types.js'
import type { View } from '../view/view.js'

/**
 * What makes two findings "the same violation" across an UPDATE: the code, the other objects
 * involved (as a set), and the message with the finding's field path taken out (a rule added
 * above a broken one moves it to another index without changing what is wrong).
 */
export function findingKey(f: Finding): string {
  const related = f.related.map((r) => `${r.kind}/${r.namespace}/${r.name}`).sort()
  const message = f.path ? f.message.split(f.path).join('') : f.message
  return JSON.stringify([f.code, related, message])
}

/**
 * Splits the findings that would deny an UPDATE into the ones the change introduces (`deny`) and
 * the ones `old` (the object before the change, judged against the same view) already had (`kept`).
 * Costs a second evaluation, and only when the UPDATE would otherwise be denied.
 * @param deny the findings that deny the new version
 * @returns `deny` unchanged (`kept` empty) when `old` is of another identity than the subject
 */
export function splitExistingViolations(
  subject: K8sObject,
  old: K8sObject,
  deny: Finding[],
  view: View,
  opts: EvaluateOptions,
): { deny: Finding[]; kept: Finding[] } {
  if (idOf(old) !== idOf(subject)) return { deny, kept: [] }
  const before = new Set<string>()
  for (const f of evaluateBounded(old, view, opts, MAX_ADMISSION_FINDINGS_PER_CODE).findings) before.add(findingKey(f))
  const introduced: Finding[] = []
  const kept: Finding[] = []
  for (const f of deny) (before.has(findingKey(f)) ? kept : introduced).push(f)
  return { deny: introduced, kept }
}
