/**
 * Messages of the catalogue (`catalogue.ts`): templates filled and bounded (`formatMessage`,
 * `listText`, `describeAll`), Findings built (`finding`) under a per-code budget
 * (`withFindingBudget`).
 */
import { describeRef, type K8sObject, refOf } from '../model/object.js'
import { MAX_ARG_LENGTH, shorten } from '../model/text.js'
import { CATALOGUE, type Code, type MessageSpec } from './catalogue.js'
import type { Finding } from './types.js'

/** Each template split once into literal text (even indexes) and placeholder names (odd). */
const TEMPLATE_PARTS = new Map<Code, string[]>()

/** Characters of a whole message at most (after its arguments are shortened). */
export const MAX_MESSAGE_LENGTH = 2048
/** Objects `describeAll` names at most; the rest are counted. */
export const MAX_LISTED = 5

/**
 * Fills a template; `{subject}` is `subject` unless `args` names one; unknown placeholders stay
 * visible as `{name}`. Every argument is shortened (`shorten`) and the message is at most
 * MAX_MESSAGE_LENGTH characters, so a hostile object cannot make a message megabytes long.
 */
export function formatMessage(code: Code, args: Record<string, string>, subject?: string): string {
  let parts = TEMPLATE_PARTS.get(code)
  if (!parts) {
    const spec: MessageSpec = CATALOGUE[code]
    const text = spec.fix === undefined ? spec.template : `${spec.template} ${spec.fix}`
    TEMPLATE_PARTS.set(code, (parts = text.split(/\{(\w+)\}/)))
  }
  const out: string[] = [code, ': ']
  for (let i = 0; i < parts.length; i++) {
    if (i % 2 === 0) out.push(parts[i]!)
    else {
      const v = args[parts[i]!] ?? (parts[i] === 'subject' ? subject : undefined) ?? `{${parts[i]}}`
      out.push(v.length > MAX_ARG_LENGTH ? shorten(v) : v)
    }
  }
  const message = out.join('') // one flat string (audit keeps messages; a rope would keep every piece)
  return message.length > MAX_MESSAGE_LENGTH ? shorten(message, MAX_MESSAGE_LENGTH) : message
}

/**
 * `a,b,c` for a list of names or hosts: at most `max` of them, then `and N more`. Build it once
 * per rule, not per finding: a hostile list can hold a hundred thousand entries.
 */
export function listText(items: readonly string[], max = MAX_LISTED): string {
  if (items.length <= max) return items.join(',')
  return `${items.slice(0, max).join(',')} and ${items.length - max} more`
}

/** `Kind ns/name, Kind ns/name` for a list of objects: at most MAX_LISTED, then `and N more`. */
export function describeAll(objs: Iterable<K8sObject>): string {
  const names: string[] = []
  let more = 0
  for (const o of objs) {
    if (names.length < MAX_LISTED) names.push(shorten(describeRef(refOf(o))))
    else more++
  }
  return more ? `${names.join(', ')} and ${more} more` : names.join(', ')
}

/** Findings of one code counted so far in the current budgeted evaluation (see `withFindingBudget`). */
let budgetCounts: Map<Code, number> | undefined
let budgetPerCode = Infinity
/** One frozen stand-in per code for findings past the budget: nothing is formatted for them. */
const CUT_FINDINGS = new Map<Code, Finding>()

function cutFinding(code: Code): Finding {
  let f = CUT_FINDINGS.get(code)
  if (!f) CUT_FINDINGS.set(code, (f = Object.freeze({ code, name: CATALOGUE[code].name, severity: CATALOGUE[code].level, resource: { kind: '', namespace: '', name: '' }, message: '', related: [] }) as Finding))
  return f
}

/** Is `f` the stand-in for a finding left out by the budget? */
export function isCutFinding(f: Finding): boolean {
  return CUT_FINDINGS.get(f.code) === f
}

/**
 * Runs `fn` (one synchronous evaluation) with at most `perCode` findings of each code built in
 * full; further `finding()` calls for that code return a shared stand-in (`isCutFinding`) and
 * cost no formatting. Per code, so that warnings by the thousand never hide a finding that
 * denies: every code keeps its first `perCode`. Codes are a closed set, so the total is bounded.
 */
export function withFindingBudget<T>(perCode: number, fn: () => T): T {
  const outer = budgetCounts
  const outerLimit = budgetPerCode
  budgetCounts = new Map()
  budgetPerCode = perCode
  try {
    return fn()
  } finally {
    budgetCounts = outer
    budgetPerCode = outerLimit
  }
}

/**
 * Builds a Finding for `subject`; `args.subject` defaults to the subject's `Kind ns/name`.
 * Inside `withFindingBudget`, past the budget for `code`, returns the code's stand-in.
 */
export function finding(
  code: Code,
  subject: K8sObject,
  args: Record<string, string>,
  extra: { path?: string; related?: K8sObject[]; reason?: string } = {},
): Finding {
  if (budgetCounts !== undefined) {
    const n = budgetCounts.get(code) ?? 0
    budgetCounts.set(code, n + 1)
    if (n >= budgetPerCode) return cutFinding(code)
  }
  const spec = CATALOGUE[code]
  const resource = refOf(subject)
  // fields in this order (JSON output), optional ones only when set
  const f = { code, name: spec.name, severity: spec.level, resource, message: formatMessage(code, args, describedSubject(subject, resource)) } as Finding
  if (extra.path !== undefined) f.path = extra.path
  f.related = extra.related ? extra.related.map(relatedRef) : []
  if (extra.reason !== undefined) f.reason = extra.reason
  return f
}

let lastSubject: K8sObject | undefined
let lastDescribed = ''

/**
 * `Kind ns/name` of the subject, shortened; the last one is kept, since a rule reports many
 * findings on one subject (and a hostile name can be megabytes long).
 */
function describedSubject(subject: K8sObject, resource: { kind: string; namespace: string; name: string }): string {
  if (subject !== lastSubject) {
    lastSubject = subject
    lastDescribed = shorten(`${shorten(resource.kind, 64)} ${resource.namespace ? `${shorten(resource.namespace, 64)}/` : ''}${shorten(resource.name)}`)
  }
  return lastDescribed
}

/** A related object as findings name it: `refOf` without the apiVersion. */
function relatedRef(obj: K8sObject): { kind: string; namespace: string; name: string } {
  const { kind, namespace, name } = refOf(obj)
  return { kind, namespace, name }
}
