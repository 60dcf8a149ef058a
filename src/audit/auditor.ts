/**
 * The background audit's engine: every rule over every object, incrementally. It keeps the
 * findings of each object and, between passes, the set of objects changed in the view. A pass
 * re-evaluates the changed objects, the objects whose findings named them (a deleted or changed
 * partner can end a conflict), and the objects named by the new findings (a new partner can start
 * one on the other side), transitively; everything else keeps its findings. The first pass
 * evaluates everything. Cost per pass: O(changed objects and their partners), not O(view).
 * With hostname ownership on, each route is also judged for RG0106: the requests it holds that
 * another namespace's route would serve, on a hostname its namespace does not own.
 */
import { evaluate } from '../engine.js'
import { DeadlineExceeded, withDeadline } from '../deadline.js'
import { isPendingObject } from '../view/pending.js'
import { idOf, kindKeyOf } from '../model/object.js'
import { type Ownership, standingTakeovers } from '../rules/conflicts/traffic-takeover.js'
import { RULES } from '../rules/index.js'
import type { Finding, Implementation, Rule } from '../rules/types.js'
import type { ClusterView } from '../view/view.js'

export interface AuditPass {
  /** objects evaluated in this pass */
  evaluated: number
  /** namespaces whose findings changed in this pass */
  changedNamespaces: Set<string>
  /** findings added in this pass (not present before for that object) */
  added: Finding[]
  /** ids of objects not judged in this pass: they ran past AUDIT_OBJECT_DEADLINE_MS (their earlier findings stand) */
  overDeadline: string[]
}

/**
 * ms one object may hold the event loop while the audit judges it (250): the audit runs beside
 * admission on the same loop, so an object no review could judge in time cannot stall the
 * webhook here either. Such an object keeps its earlier findings and is named in the pass
 * (`overDeadline`, logged by the runner); `routeguard analyze` judges it without a deadline.
 */
export const AUDIT_OBJECT_DEADLINE_MS = 250

function relatedId(r: { kind: string; namespace: string; name: string }, apiGroupOf: (kind: string) => string[]): string[] {
  return apiGroupOf(r.kind).map((g) => `${g}/${r.kind}|${r.namespace}|${r.name}`)
}

export class Auditor {
  private readonly findings = new Map<string, Finding[]>()
  /** namespace → ids with findings */
  private readonly byNamespace = new Map<string, Set<string>>()
  /** id → ids of objects whose findings name it */
  private readonly namedBy = new Map<string, Set<string>>()
  private dirty = new Set<string>()
  private readonly subjects: Set<string>
  private readonly groupsOfKind = new Map<string, string[]>()

  constructor(
    private readonly view: ClusterView,
    private readonly rules: readonly Rule[] = RULES,
    private readonly implementation?: Implementation,
    /** the config's hostname ownership, read at each object (it reloads): RG0106 for stored routes */
    private readonly ownership: () => Ownership | undefined = () => undefined,
  ) {
    this.subjects = new Set(rules.flatMap((r) => r.subjects))
    for (const k of this.subjects) {
      const [g, kind] = [k.slice(0, k.lastIndexOf('/')), k.slice(k.lastIndexOf('/') + 1)]
      this.groupsOfKind.set(kind, [...(this.groupsOfKind.get(kind) ?? []), g])
    }
    for (const o of view.all()) this.dirty.add(idOf(o))
    view.onChange((id) => this.dirty.add(id))
  }

  /** Objects changed since the last pass. */
  pending(): number {
    return this.dirty.size
  }

  /** Runs one incremental pass. */
  run(): AuditPass {
    const queue = [...this.dirty]
    this.dirty = new Set()
    const seen = new Set(queue)
    for (const id of queue) for (const other of this.namedBy.get(id) ?? []) if (!seen.has(other)) (seen.add(other), queue.push(other))
    const changedNamespaces = new Set<string>()
    const added: Finding[] = []
    let evaluated = 0
    const overDeadline: string[] = []
    while (queue.length) {
      const id = queue.pop()!
      const obj = this.view.getById(id)
      // a pending object (admitted, not yet stored) is no subject of the audit: reports are
      // about what the cluster holds, so the stored version's findings stand (none for a
      // CREATE) until the informer delivers it, which marks it changed again
      if (obj && isPendingObject(obj)) continue
      const old = this.findings.get(id) ?? []
      let now: Finding[] = []
      if (obj && this.subjects.has(kindKeyOf(obj) ?? '')) {
        try {
          now = withDeadline(AUDIT_OBJECT_DEADLINE_MS, () => [
            ...evaluate(obj, this.view, { mode: 'audit', rules: this.rules, implementation: this.implementation }),
            ...standingTakeovers(this.view, obj, this.ownership()),
          ])
        } catch (e) {
          if (!(e instanceof DeadlineExceeded)) throw e
          overDeadline.push(id)
          continue
        }
        evaluated++
      }
      this.unlink(id, old)
      const ns = id.split('|')[1] ?? ''
      if (now.length) {
        this.findings.set(id, now)
        let s = this.byNamespace.get(ns)
        if (!s) this.byNamespace.set(ns, (s = new Set()))
        s.add(id)
      } else if (this.findings.delete(id)) {
        const s = this.byNamespace.get(ns)
        if (s?.delete(id) && s.size === 0) this.byNamespace.delete(ns)
      }
      this.link(id, now)
      const before = new Set(old.map(fingerprint))
      const after = new Set(now.map(fingerprint))
      if (before.size !== after.size || [...after].some((f) => !before.has(f))) {
        changedNamespaces.add(ns)
        for (const f of now) if (!before.has(fingerprint(f))) added.push(f)
      }
      // partners named by the new findings may now conflict back (symmetric rules)
      for (const f of now) {
        for (const r of f.related) {
          for (const rid of relatedId(r, (k) => this.groupsOfKind.get(k) ?? [])) {
            if (!seen.has(rid) && this.view.getById(rid)) (seen.add(rid), queue.push(rid))
          }
        }
      }
    }
    return { evaluated, changedNamespaces, added, overDeadline }
  }

  /** Current findings of every object. */
  all(): Finding[] {
    return [...this.findings.values()].flat()
  }

  /** Current findings of objects in `namespace`. */
  inNamespace(namespace: string): Finding[] {
    return [...(this.byNamespace.get(namespace) ?? [])].flatMap((id) => this.findings.get(id) ?? [])
  }

  private link(id: string, fs: Finding[]): void {
    for (const f of fs) {
      for (const r of f.related) {
        for (const rid of relatedId(r, (k) => this.groupsOfKind.get(k) ?? [])) {
          let s = this.namedBy.get(rid)
          if (!s) this.namedBy.set(rid, (s = new Set()))
          s.add(id)
        }
      }
    }
  }

  private unlink(id: string, fs: Finding[]): void {
    for (const f of fs) {
      for (const r of f.related) {
        for (const rid of relatedId(r, (k) => this.groupsOfKind.get(k) ?? [])) {
          const s = this.namedBy.get(rid)
          if (s?.delete(id) && s.size === 0) this.namedBy.delete(rid)
        }
      }
    }
  }
}

export function fingerprint(f: Finding): string {
  return `${f.code}|${f.resource.kind}|${f.resource.namespace}|${f.resource.name}|${f.path ?? ''}|${f.message}`
}
