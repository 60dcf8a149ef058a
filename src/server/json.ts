/**
 * The webhook's JSON body parser: bounded by what parsing builds, not only by bytes.
 *
 * JSON.parse turns 8 MiB of `[{},{},…]` into ~190 MiB of heap and holds the event loop for
 * hundreds of ms; a byte limit alone does not bound either. Before parsing, one pass over the
 * bytes (a few ms for 8 MiB, nothing allocated) counts the values the body would build and its
 * nesting; a body over MAX_JSON_VALUES values or MAX_JSON_DEPTH levels is not parsed.
 *
 * For such a body the same pass records where `request.object` and `request.oldObject` lie, so
 * that the envelope without them (uid, kind, operation, name, namespace: a few hundred bytes)
 * can still be read and the review answered as an AdmissionReview per the failure policy,
 * naming the object (see `TooLargeToJudge`).
 *
 * Keys are data: the body is parsed with `JSON.parse`, which defines every key (`__proto__`
 * included) as an own property and never touches a prototype (Fastify's default parser refuses
 * such bodies with a misleading "not valid JSON").
 */

/**
 * Structural tokens one body may hold (400,000): every `{`, `[` and `,` outside strings, so at
 * least every value but the first scalar of each container; `[{},{}]` counts 4. An UPDATE review
 * of two 1.5 MiB objects (etcd's default limit) holds about 150,000.
 */
export const MAX_JSON_VALUES = 400_000
/** Nesting one body may have (containers inside containers); objects themselves are held to MAX_DEPTH (100). */
export const MAX_JSON_DEPTH = 128

export interface Scan {
  /** structural tokens outside strings: `{`, `[` and `,` (see MAX_JSON_VALUES), plus one */
  values: number
  /** deepest nesting seen */
  depth: number
  /** byte ranges [start, end) of `request.object` / `request.oldObject` when they are containers */
  cuts: [number, number][]
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const OPEN_OBJ = 0x7b
const CLOSE_OBJ = 0x7d
const OPEN_ARR = 0x5b
const CLOSE_ARR = 0x5d

/**
 * One pass over `buf`: counts values and nesting (outside strings), and finds the byte ranges of
 * the values of `request.object` and `request.oldObject` when they are objects or arrays. Never
 * throws, allocates nothing per byte, and does not validate (JSON.parse does that afterwards).
 */
export function scanJson(buf: Uint8Array): Scan {
  let values = 1
  let depth = 0
  let deepest = 0
  let inString = false
  let escaped = false
  let stringStart = -1
  // the last string that ended at depth 1 or 2, and the keys in force at those depths
  let lastString = ''
  let key1 = ''
  let key2 = ''
  let cutStart = -1
  const cuts: [number, number][] = []
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!
    if (inString) {
      if (escaped) escaped = false
      else if (c === BACKSLASH) escaped = true
      else if (c === QUOTE) {
        inString = false
        // keys worth knowing are short; longer strings never match them
        if (depth <= 2) lastString = i - stringStart <= 16 ? String.fromCharCode(...buf.subarray(stringStart, i)) : ''
      }
      continue
    }
    switch (c) {
      case QUOTE:
        inString = true
        stringStart = i + 1
        break
      case COLON:
        if (depth === 1) key1 = lastString
        else if (depth === 2) key2 = lastString
        break
      case COMMA:
        values++
        break
      case OPEN_OBJ:
      case OPEN_ARR:
        if (depth === 2 && key1 === 'request' && (key2 === 'object' || key2 === 'oldObject') && cutStart < 0) cutStart = i
        values++
        depth++
        if (depth > deepest) deepest = depth
        break
      case CLOSE_OBJ:
      case CLOSE_ARR:
        depth--
        if (depth === 2 && cutStart >= 0) {
          cuts.push([cutStart, i + 1])
          cutStart = -1
        }
        // a key read inside a nested object is not this level's key
        if (depth === 2) key2 = ''
        break
    }
  }
  return { values, depth: deepest, cuts }
}

/**
 * A body over the value or depth limit: not parsed. `envelope` is the AdmissionReview with
 * `request.object` and `request.oldObject` replaced by null, when that much could be read.
 */
export class TooLargeToJudge extends Error {
  readonly statusCode = 413
  readonly code = 'RG_TOO_LARGE_TO_JUDGE'
  constructor(
    /** what is over the limit: `it holds more than 400000 JSON values and separators` */
    readonly why: string,
    readonly envelope: unknown,
  ) {
    super(`the AdmissionReview: ${why}: too large to judge`)
  }
}

/**
 * Parses a JSON body within the limits.
 * @throws TooLargeToJudge over MAX_JSON_VALUES values or MAX_JSON_DEPTH levels
 * @throws SyntaxError (statusCode 400) when it is not JSON
 */
export function parseBoundedJson(buf: Buffer, maxValues = MAX_JSON_VALUES, maxDepth = MAX_JSON_DEPTH): unknown {
  const scan = scanJson(buf)
  if (scan.values > maxValues || scan.depth > maxDepth) {
    const why = scan.values > maxValues ? `it holds more than ${maxValues} JSON values and separators` : `it holds JSON nested deeper than ${maxDepth} levels`
    throw new TooLargeToJudge(why, envelopeOf(buf, scan.cuts))
  }
  try {
    return JSON.parse(buf.toString('utf8'))
  } catch (e) {
    throw Object.assign(new Error(`Body is not valid JSON: ${(e as Error).message}`), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' })
  }
}

/** The envelope with the cut ranges replaced by null, parsed; undefined when that is not JSON or still too large. */
function envelopeOf(buf: Buffer, cuts: [number, number][]): unknown {
  if (!cuts.length) return undefined
  const parts: Buffer[] = []
  let at = 0
  for (const [start, end] of cuts) {
    parts.push(buf.subarray(at, start), Buffer.from('null'))
    at = end
  }
  parts.push(buf.subarray(at))
  const rest = Buffer.concat(parts)
  if (rest.length > 64 * 1024) return undefined
  try {
    return JSON.parse(rest.toString('utf8'))
  } catch {
    return undefined
  }
}
