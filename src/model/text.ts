/**
 * Bounded text for messages, logs and annotations: whatever an object holds, what routeguard
 * writes about it has a known size. Lengths are in UTF-16 code units (JavaScript string length).
 */

/**
 * Characters one argument (a name, a host, a match) keeps in a message; a longer one is cut in
 * the middle (`…`) and says how many characters were left out. Kubernetes names are at most 253
 * characters, so only hostile or broken input is ever cut.
 */
export const MAX_ARG_LENGTH = 256

/** `v` when it fits `max`, else its head and tail around `…(N characters cut)…`. */
export function shorten(v: string, max = MAX_ARG_LENGTH): string {
  if (v.length <= max) return v
  const keep = max - 32
  const head = Math.ceil(keep * 0.75)
  const tail = keep - head
  return `${v.slice(0, head)}…(${v.length - keep} characters cut)…${v.slice(v.length - tail)}`
}

/**
 * `a, b, c` for the fields of a match (`PathPrefix /api`, `header x-env = prod`, …), cut at a
 * field boundary: fields are kept whole while the text fits `max` characters, the rest are
 * counted (`a, b and 7 more match values`). A single field longer than `max / 2` is shortened on
 * its own (`shorten`). The result is at most `max` + 32 characters, so a message argument built
 * from it is never cut mid-text.
 */
export function joinFields(fields: readonly string[], max = 192): string {
  const kept: string[] = []
  let length = 0
  for (const raw of fields) {
    const f = raw.length > max / 2 ? shorten(raw, max / 2) : raw
    const next = length + (kept.length ? 2 : 0) + f.length
    if (next > max) break
    kept.push(f)
    length = next
  }
  const left = fields.length - kept.length
  if (left === 0) return kept.join(', ')
  return `${kept.join(', ')} and ${left} more match value${left === 1 ? '' : 's'}`
}
