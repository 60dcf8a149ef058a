/** Host matching and the host index: the trie must return exactly what a full scan with Istio's rule returns. */
import t from 'tap'
import { HostTrie, hostsMatch, serviceOfFQDN, toFQDN } from '../src/model/hosts.js'

t.test('Istio host semantics', async (t) => {
  t.equal(toFQDN('reviews', 'default'), 'reviews.default.svc.cluster.local')
  t.equal(toFQDN('reviews.foo', 'default'), 'reviews.foo', 'names with a dot are kept')
  t.equal(toFQDN('*', 'default'), '*')
  t.ok(hostsMatch('*.example.com', 'a.example.com'))
  t.ok(hostsMatch('*.example.com', 'a.b.example.com'))
  t.notOk(hostsMatch('*.example.com', 'example.com'), 'a wildcard never matches the bare parent')
  t.ok(hostsMatch('*.d', '*.productpage.d'), 'two wildcards: the longer ends with the shorter')
  t.ok(hostsMatch('*', 'anything.at.all'))
  t.ok(hostsMatch('*foo.com', 'barfoo.com'), 'partial first label')
  t.notOk(hostsMatch('a.example.com', 'b.example.com'))
  t.same(serviceOfFQDN('reviews.default.svc.cluster.local'), { name: 'reviews', namespace: 'default' })
  t.equal(serviceOfFQDN('reviews.example.com'), undefined)
})

t.test('HostTrie.matching equals a brute-force scan, before and after removals', async (t) => {
  const labels = ['a', 'b', 'c', 'foo', 'bar', 'example', 'com']
  let seed = 42
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  const host = () => {
    const n = 1 + rnd(3)
    const parts = Array.from({ length: n }, () => labels[rnd(labels.length)]!)
    const w = rnd(6)
    if (w === 0) return `*.${parts.join('.')}`
    if (w === 1) return `*${parts.join('.')}`
    if (w === 2 && n === 1) return '*'
    return parts.join('.')
  }
  const stored: [string, number][] = Array.from({ length: 400 }, (_, i) => [host(), i])
  const box = stored.map(([, v]) => ({ v }))
  const trie = new HostTrie<{ v: number }>()
  for (const [h, v] of stored) trie.add(h, box[v]!)
  const check = (live: [string, number][], label: string) => {
    let bad = 0
    for (let q = 0; q < 300; q++) {
      const query = host()
      const want = live.filter(([h]) => hostsMatch(h, query)).map(([, v]) => v).sort((a, b) => a - b)
      const got = [...new Set([...trie.matching(query)].map((b) => b.v))].sort((a, b) => a - b)
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        bad++
        if (bad < 3) t.same(got, want, `${label}: matching(${query})`)
      }
      const exactWant = live.filter(([h]) => h === query).map(([, v]) => v).sort((a, b) => a - b)
      if (JSON.stringify([...trie.exact(query)].map((b) => b.v).sort((a, b) => a - b)) !== JSON.stringify(exactWant)) bad++
    }
    t.equal(bad, 0, `${label}: every query agrees with the scan`)
  }
  check(stored, 'full')
  const kept = stored.filter(([, v]) => v % 3 !== 0)
  for (const [h, v] of stored) if (v % 3 === 0) trie.remove(h, box[v]!)
  check(kept, 'after removing a third')
  for (const [h, v] of kept) trie.remove(h, (b) => b.v === v)
  t.equal([...trie.matching('*')].length, 0, 'empty after removing everything')
})
