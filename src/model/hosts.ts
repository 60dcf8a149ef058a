/**
 * Host names: Istio's FQDN expansion and wildcard matching, and an index of hosts that answers
 * "which stored hosts match this one" without looking at unrelated hosts.
 *
 * Sources: Istio `pkg/config/host/name.go` (`Name.Matches`) and
 * `pkg/config/analysis/analyzers/util/hosts.go` (`ConvertHostToFQDN`); Gateway API hostname rules
 * (HTTPRoute `spec.hostnames`, listener `hostname`): a `*.` wildcard covers one or more labels and
 * never the bare parent domain, which is what Istio's suffix match gives too.
 */

import { type Bag, bagAdd, bagRemove, bagValues } from './bag.js'

export const CLUSTER_DOMAIN = 'cluster.local'

/**
 * Istio's `ConvertHostToFQDN`: a host that neither starts with `*` nor contains a dot is a short
 * Service name and gets `.<namespace>.svc.cluster.local`. Anything else is kept verbatim
 * (no lower-casing, as Istio does not lower-case either).
 */
export function toFQDN(host: string, namespace: string): string {
  if (host.startsWith('*') || host.includes('.')) return host
  return serviceFQDN(host, namespace)
}

/**
 * How specific a host is, for picking the best of several that match one name: every exact name
 * ranks above every wildcard, and longer ranks above shorter (pilot's virtual host choice for
 * VirtualService hosts; `*` ranks lowest). Larger is more specific.
 */
export function hostSpecificity(h: string): number {
  return h.startsWith('*') ? h.length : 1_000_000 + h.length
}

export function isWildcard(host: string): boolean {
  return host.startsWith('*')
}

/**
 * Istio's symmetric `Name.Matches`: equal names match; a wildcard matches every name that ends
 * with what follows its `*`; two wildcards match when the longer ends with the shorter's suffix.
 */
export function hostsMatch(a: string, b: string): boolean {
  const aw = isWildcard(a)
  const bw = isWildcard(b)
  if (aw && bw) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1))
  if (aw) return b.endsWith(a.slice(1))
  if (bw) return a.endsWith(b.slice(1))
  return a === b
}

/** The more specific of two intersecting hostnames (Gateway API listener/route intersection). */
export function moreSpecific(a: string, b: string): string {
  if (!isWildcard(a)) return a
  if (!isWildcard(b)) return b
  return a.length >= b.length ? a : b
}

/** The host Istio and GAMMA give a Kubernetes Service: `<name>.<namespace>.svc.cluster.local`. */
export function serviceFQDN(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`
}

/** `name.namespace.svc.cluster.local` → {name, namespace}; anything else → undefined. */
export function serviceOfFQDN(host: string): { name: string; namespace: string } | undefined {
  const suffix = `.svc.${CLUSTER_DOMAIN}`
  if (!host.endsWith(suffix) || isWildcard(host)) return undefined
  const parts = host.slice(0, -suffix.length).split('.')
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined
  return { name: parts[0], namespace: parts[1] }
}

interface TrieNode<T extends object> {
  children?: Map<string, TrieNode<T>>
  /** values stored under exactly this name */
  exact?: Bag<T>
  /** values stored under `*.<this name>` (`*` alone at the root) */
  wild?: Bag<T>
  /** values stored under `*xyz.<this name>` (a wildcard whose first label is more than `*`), by host */
  partial?: Map<string, Bag<T>>
}

/** Where a host lives in the trie: the label path, and which slot of the node holds it. */
interface Slot {
  labels: string[]
  kind: 'exact' | 'wild' | 'partial'
  /** for `partial`: the part of the first label after `*` (`*foo.com` → `foo`) */
  partialLabel: string
}

function slotOf(host: string): Slot {
  if (!isWildcard(host)) return { labels: splitLabels(host), kind: 'exact', partialLabel: '' }
  if (host === '*' || host.startsWith('*.')) return { labels: splitLabels(host.slice(1)), kind: 'wild', partialLabel: '' }
  const rest = host.slice(1)
  const dot = rest.indexOf('.')
  const first = dot < 0 ? rest : rest.slice(0, dot)
  return { labels: dot < 0 ? [] : splitLabels(rest.slice(dot + 1)), kind: 'partial', partialLabel: first }
}

/**
 * An index of values by host name, organised as a trie of labels read right to left
 * (`reviews.default.svc.cluster.local` → local, cluster, svc, default, reviews).
 *
 * `matching(h)` returns every value whose host `hostsMatch`es `h`, visiting only the path of `h`
 * (for wildcards stored above it) and, when `h` is itself a wildcard, the subtree below its suffix.
 * Cost: O(labels of h) plus the values returned (a wildcard query also walks the subtree under
 * its suffix, all of which matches). `add` and `remove` are O(labels). Nodes allocate their
 * maps and sets only when used, since most nodes are leaves holding one value. A value may be
 * stored under several hosts; `matching` can then yield it more than once.
 */
export class HostTrie<T extends object> {
  private readonly root: TrieNode<T> = {}

  add(host: string, value: T): void {
    const s = slotOf(host)
    let n = this.root
    for (const l of s.labels) {
      n.children ??= new Map()
      let c = n.children.get(l)
      if (!c) n.children.set(l, (c = {}))
      n = c
    }
    if (s.kind === 'exact') n.exact = bagAdd(n.exact, value)
    else if (s.kind === 'wild') n.wild = bagAdd(n.wild, value)
    else {
      n.partial ??= new Map()
      n.partial.set(host, bagAdd(n.partial.get(host), value))
    }
  }

  /** Removes `value` (or every value matching `pred`) stored under `host`. */
  remove(host: string, value: T | ((v: T) => boolean)): void {
    const pred = typeof value === 'function' ? (value as (v: T) => boolean) : (v: T) => v === value
    const s = slotOf(host)
    const path: TrieNode<T>[] = [this.root]
    for (const l of s.labels) {
      const c = path[path.length - 1]!.children?.get(l)
      if (!c) return
      path.push(c)
    }
    const n = path[path.length - 1]!
    if (s.kind === 'exact') n.exact = bagRemove(n.exact, pred)
    else if (s.kind === 'wild') n.wild = bagRemove(n.wild, pred)
    else if (n.partial) {
      const b = bagRemove(n.partial.get(host), pred)
      if (b === undefined) n.partial.delete(host)
      else n.partial.set(host, b)
      if (n.partial.size === 0) delete n.partial
    }
    for (let i = path.length - 1; i > 0; i--) {
      const p = path[i]!
      if (p.exact !== undefined || p.wild !== undefined || p.partial || p.children?.size) break
      const parent = path[i - 1]!
      parent.children!.delete(s.labels[i - 1]!)
      if (parent.children!.size === 0) delete parent.children
    }
  }

  /** Values stored under exactly `host`. */
  exact(host: string): Iterable<T> {
    const s = slotOf(host)
    let n: TrieNode<T> | undefined = this.root
    for (const l of s.labels) if (!(n = n.children?.get(l))) return []
    if (s.kind === 'exact') return bagValues(n.exact)
    if (s.kind === 'wild') return bagValues(n.wild)
    return bagValues(n.partial?.get(host))
  }

  /** Values whose stored host matches `host` by Istio's `Name.Matches` (both directions). */
  matching(host: string): T[] {
    const out: T[] = []
    const s = slotOf(host)
    let n: TrieNode<T> | undefined = this.root
    for (let i = 0; ; i++) {
      // stored wildcards whose suffix is a proper suffix of `host` (or equal, for wildcard queries)
      const atEnd = i === s.labels.length
      if (!atEnd || s.kind !== 'exact') collect(n.wild, out)
      if (n.partial) for (const [pattern, bag] of n.partial) if (hostsMatch(pattern, host)) collect(bag, out)
      if (atEnd) break
      n = n.children?.get(s.labels[i]!)
      if (!n) return out
    }
    if (s.kind === 'exact') {
      collect(n.exact, out)
    } else if (n.children) {
      for (const [label, child] of n.children) {
        if (s.kind === 'wild' || label.endsWith(s.partialLabel)) subtree(child, out)
      }
    }
    return out
  }
}

function collect<T extends object>(bag: Bag<T>, out: T[]): void {
  if (bag === undefined) return
  if (bag instanceof Set) for (const v of bag) out.push(v)
  else out.push(bag)
}

function subtree<T extends object>(n: TrieNode<T>, out: T[]): void {
  collect(n.exact, out)
  collect(n.wild, out)
  if (n.partial) for (const b of n.partial.values()) collect(b, out)
  if (n.children) for (const c of n.children.values()) subtree(c, out)
}

/**
 * `a.b.c` → [c, b, a]; `.a.b` (a wildcard's suffix) → [b, a]; empty labels are skipped. One
 * pass from the end, no intermediate arrays: every host of every review goes through here.
 */
function splitLabels(host: string): string[] {
  const out: string[] = []
  let end = host.length
  for (let i = host.length - 1; i >= -1; i--) {
    if (i === -1 || host.charCodeAt(i) === 46 /* . */) {
      if (end > i + 1) out.push(host.slice(i + 1, end))
      end = i
    }
  }
  return out
}
