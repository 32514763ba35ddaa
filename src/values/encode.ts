/**
 * Canonical encoding: a row's identity (docs/encoding.md §1).
 *
 * Two rows are the same row exactly when their canonical texts are equal, so this
 * is what ZSets consolidate on. Texts are not memoised per object (a WeakMap
 * costs more in GC than it saves); instead a ZSet entry keeps its row's text and
 * operators build new texts from their inputs' (see `pairText`).
 */
import { InvalidValueError } from './errors.js'
import { EMPTY } from './value.js'
import { sortCodePoints } from './order.js'

/** Objects that encode themselves (ZSets used as values). */
export const CANONICAL = Symbol.for('stepping.canonical')
export interface SelfEncoding {
  [CANONICAL](): string
}

const quotedKeys = new Map<string, string>()
const MAX_DEPTH = 200

/** Thrown inside the fast encoder; turned into an InvalidValueError with a path by `canonical`. */
class Invalid {
  constructor(readonly reason: string) {}
}

function quoteKey(key: string): string {
  let q = quotedKeys.get(key)
  if (q === undefined) {
    q = JSON.stringify(key.charCodeAt(0) === 36 /* $ */ ? '$' + key : key)
    if (quotedKeys.size < 100_000) quotedKeys.set(key, q)
  }
  return q
}

/**
 * How to write objects with a given key list: keys in code point order, and a
 * writer compiled for that list. Rows of one table share a shape, so the
 * writer's field reads and type tests each see one kind of object and value
 * (V8 keeps them monomorphic), where a loop over the keys sees them all
 * (100,000 meter reads encode in ~25 ms instead of ~35 with a loop).
 */
interface Shape {
  readonly keys: readonly string[]
  readonly write: (o: Record<string, unknown>, depth: number) => string
}

// Rows in a batch share a few shapes; remembering the last ones saves sorting keys per row.
const recentShapes: Shape[] = []
/** Every shape seen, by its key list: compiling costs tens of µs, so a shape is compiled once. */
const knownShapes = new Map<string, Shape>()
/** Past this many shapes (keys that are data, not a schema), new ones get a plain loop writer instead. */
const MAX_COMPILED_SHAPES = 1000

function shapeOf(keys: string[]): Shape {
  for (const shape of recentShapes) {
    const known = shape.keys
    if (known.length !== keys.length) continue
    let same = true
    for (let i = 0; i < keys.length; i++) {
      if (known[i] !== keys[i]) {
        same = false
        break
      }
    }
    if (same) return shape
  }
  // JSON, not a join: [] and [""], or ["a\u0000", "b"] and ["a", "\u0000b"], must not share a writer.
  const id = JSON.stringify(keys)
  let shape = knownShapes.get(id)
  if (shape === undefined) {
    const order = keys.length > 1 ? sortCodePoints([...keys]) : keys
    if (knownShapes.size < MAX_COMPILED_SHAPES) {
      shape = { keys, write: compileWriter(order) }
      knownShapes.set(id, shape)
    } else {
      shape = { keys, write: loopWriter(order) }
    }
  }
  recentShapes.unshift(shape)
  if (recentShapes.length > 8) recentShapes.pop()
  return shape
}

/** The same text as compileWriter's, by a loop over the keys (for shapes past the compiled ones). */
function loopWriter(order: readonly string[]): Shape['write'] {
  if (order.length === 0) return () => '{}'
  const prefixes = order.map((k, i) => (i > 0 ? ',' : '{') + quoteKey(k) + ':')
  return (o, d) => {
    let s = ''
    for (let i = 0; i < order.length; i++) s += prefixes[i]! + encodeAny(o[order[i]!], d)
    return s + '}'
  }
}

/**
 * `{"a":…,"b":…}` for the keys in `order`: one expression, strings and numbers
 * written inline, anything else through encodeAny. Each field remembers its
 * last string or number and that value's text, since rows of a batch often
 * repeat a column (one meter, one user, one day): a repeat costs a comparison
 * instead of a quoting or a number formatting. Keys reach the source only as
 * JSON string literals (valid JS string literals), never as code.
 */
function compileWriter(order: readonly string[]): Shape['write'] {
  if (order.length === 0) return () => '{}'
  const lines = [`let ${order.map((_, i) => `last${i}, text${i} = ""`).join(', ')}`, 'return function writeObject(o, d) {']
  order.forEach((k, i) => {
    lines.push(
      `  const v${i} = o[${JSON.stringify(k)}]`,
      `  let t${i}`,
      `  if (v${i} === last${i} && text${i} !== "") t${i} = text${i}`,
      `  else if (typeof v${i} === "string") { t${i} = str(v${i}); last${i} = v${i}; text${i} = t${i} }`,
      `  else if (typeof v${i} === "number") { t${i} = num(v${i}); last${i} = v${i}; text${i} = t${i} }`,
      `  else t${i} = v${i} instanceof Date ? date(v${i}) : any(v${i}, d)`,
    )
  })
  const parts = order.map((k, i) => `${JSON.stringify((i > 0 ? ',' : '{') + quoteKey(k) + ':')} + t${i}`)
  lines.push(`  return ${parts.join(' + ')} + "}"`, '}')
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function('str', 'num', 'date', 'any', 'Date', lines.join('\n'))
  return make(JSON.stringify, encodeNumber, encodeDate, encodeAny, Date) as Shape['write']
}

/** ".001" … ".999" without trailing zeros ("" for 0): the fraction of a number with up to 3 decimals. */
const THOUSANDTHS = Array.from({ length: 1000 }, (_, i) => (i === 0 ? '' : ('.' + String(i).padStart(3, '0')).replace(/0+$/, '')))

function encodeNumber(n: number): string {
  if (n !== n) throw new Invalid('NaN is not a value (use null for "no number")')
  if (Number.isInteger(n)) return String(n) // String(-0) is "0"
  if (n === Infinity) return '{"$f":"Infinity"}'
  if (n === -Infinity) return '{"$f":"-Infinity"}'
  return decimalText(n)
}

/**
 * String(n), faster for amounts with up to 3 decimals (prices, readings):
 * when k = 1000n is an integer and k / 1000 is n again, the decimal k/1000 is
 * the one decimal of ≤ 3 places within n's rounding interval (below 1e9 that
 * interval is far narrower than 0.001), hence the shortest text, which is what
 * String gives. Checked against String(n) by a property test.
 */
export function decimalText(n: number): string {
  const k = n * 1000
  if (Number.isInteger(k) && k / 1000 === n && n < 1e9 && n > -1e9) {
    const a = k < 0 ? -k : k
    const f = a % 1000
    return (k < 0 ? '-' : '') + String((a - f) / 1000) + THOUSANDTHS[f]
  }
  return String(n)
}

function encodeDate(d: Date): string {
  const t = d.getTime()
  if (t !== t) throw new Invalid('an invalid Date is not a value')
  return '{"$d":' + String(t) + '}'
}

function encodeAny(v: unknown, depth: number): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v)
    case 'number':
      return encodeNumber(v)
    case 'boolean':
      return v ? 'true' : 'false'
    case 'bigint':
      return '{"$n":"' + v.toString() + '"}'
    case 'object':
      if (v === null) return 'null'
      return encodeObject(v, depth)
    case 'undefined':
      throw new Invalid('undefined is not a value (omit the field or use null)')
    case 'function':
      throw new Invalid('a function is not a value')
    case 'symbol':
      throw new Invalid('a symbol is not a value')
  }
  throw new Invalid(`unsupported type ${typeof v}`)
}

function encodeObject(o: object, depth: number): string {
  if (depth > MAX_DEPTH) throw new Invalid('nested too deeply (or a cycle)')
  let s: string
  if (Array.isArray(o)) {
    s = '['
    for (let i = 0; i < o.length; i++) {
      if (i > 0) s += ','
      s += encodeAny(o[i], depth + 1)
    }
    s += ']'
  } else if (o instanceof Date) {
    s = encodeDate(o)
  } else if (o === EMPTY) {
    s = '{"$e":0}'
  } else if (o instanceof Set) {
    const items: string[] = []
    for (const item of o) items.push(encodeAny(item, depth + 1))
    s = '{"$s":[' + sortCodePoints(items).join(',') + ']}'
  } else if (CANONICAL in o) {
    s = (o as SelfEncoding)[CANONICAL]()
  } else {
    const proto = Object.getPrototypeOf(o)
    if (proto !== Object.prototype && proto !== null) {
      const name = (proto?.constructor?.name as string | undefined) ?? 'unknown'
      throw new Invalid(`a ${name} instance is not a value (use a plain object)`)
    }
    s = shapeOf(Object.keys(o)).write(o as Record<string, unknown>, depth + 1)
  }
  return s
}

/** The canonical text of a value; throws InvalidValueError naming the path of the first bad part. */
export function canonical(v: unknown): string {
  try {
    return flat(encodeAny(v, 0))
  } catch (e) {
    if (e instanceof Invalid) throw locate(v)
    throw e
  }
}

/**
 * The text built above is a deep tree of V8 cons strings (one per `+=`).
 * Reading one char flattens it in place: later hashing (as a Map key),
 * writing (SQL stores, the native backend) and concatenation (`pairText`)
 * then read one flat string, and the tree's many small objects die young
 * instead of being kept alive (and copied by every GC) with the key.
 */
function flat(s: string): string {
  flattened ^= s.charCodeAt(0) // (stored, so that no optimiser drops the read)
  return s
}
let flattened = 0

/** Row identity for in-memory maps: numbers are their own key, everything else its canonical text. */
export function rowKey(v: unknown): string | number {
  if (typeof v === 'number') {
    if (v !== v || v === Infinity || v === -Infinity) return canonical(v)
    return v
  }
  return canonical(v)
}

/** Slow path: walk the value again to name where it is bad (and spot cycles precisely). */
function locate(root: unknown): InvalidValueError {
  const seen = new Set<object>()
  const walk = (v: unknown, path: string): InvalidValueError | undefined => {
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return new InvalidValueError('a cycle (the value contains itself)', path)
      seen.add(v)
      try {
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) {
            const e = walk(v[i], `${path}[${i}]`)
            if (e) return e
          }
        } else if (v instanceof Set) {
          let i = 0
          for (const item of v) {
            const e = walk(item, `${path}{set item ${i++}}`)
            if (e) return e
          }
        } else if (!(v instanceof Date) && v !== EMPTY && !(CANONICAL in v)) {
          const proto = Object.getPrototypeOf(v)
          if (proto === Object.prototype || proto === null) {
            for (const key of Object.keys(v)) {
              const e = walk((v as Record<string, unknown>)[key], `${path}.${key}`)
              if (e) return e
            }
          }
        }
      } finally {
        seen.delete(v)
      }
    }
    try {
      encodeAny(v, 0)
      return undefined
    } catch (e) {
      if (e instanceof Invalid) return new InvalidValueError(e.reason, path)
      throw e
    }
  }
  return walk(root, '') ?? new InvalidValueError('not a value', '')
}

/** Hook so that decoding can rebuild ZSets without this module importing the ZSet class. */
let makeZSet: ((rows: [unknown, number][]) => unknown) | undefined
export function registerZSetFactory(f: (rows: [unknown, number][]) => unknown): void {
  makeZSet = f
}

/** Rebuild a value from its canonical text (used by the SQL stores). */
export function decodeCanonical(text: string): unknown {
  return revive(JSON.parse(text))
}

function revive(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = revive(v[i])
    return v
  }
  const o = v as Record<string, unknown>
  const keys = Object.keys(o)
  if (keys.length === 1 && keys[0]!.length === 2 && keys[0]!.charCodeAt(0) === 36) {
    const x = o[keys[0]!]
    switch (keys[0]) {
      case '$d':
        return new Date(x as number)
      case '$n':
        return BigInt(x as string)
      case '$f':
        return x === 'Infinity' ? Infinity : -Infinity
      case '$e':
        return EMPTY
      case '$s':
        return new Set((x as unknown[]).map(revive))
      case '$z':
        if (!makeZSet) throw new Error('no ZSet factory registered')
        return makeZSet((x as [unknown, number][]).map(([value, w]) => [revive(value), w]))
    }
  }
  let needsRename = false
  for (const key of keys) {
    if (key.charCodeAt(0) === 36) needsRename = true
    o[key] = revive(o[key])
  }
  if (!needsRename) return o
  const out: Record<string, unknown> = {}
  for (const key of keys) out[key.charCodeAt(0) === 36 ? key.slice(1) : key] = o[key]
  return out
}

/** The canonical text behind a row key (numbers are their own key). */
export function keyText(key: string | number): string {
  return typeof key === 'number' ? String(key) : key
}

/** The row key of `{ left, right }` from its parts' row keys, without re-encoding them. */
export function pairText(leftKey: string | number, rightKey: string | number): string {
  return '{"left":' + keyText(leftKey) + ',"right":' + keyText(rightKey) + '}'
}
