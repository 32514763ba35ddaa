/**
 * A naive evaluator for the tests: bags (multisets with integer weights) as
 * plain Maps, and every query operator written the obvious, non-incremental
 * way. Nothing here imports stepping: the tests compare stepping's
 * incremental results against these from-scratch answers.
 *
 * Values are plain JS values. A nested bag (a ZSet used as a value, e.g. the
 * result of an ARRAY_AGG-style reduce) is a `Bag` (a Map) inside the value.
 */

export interface BagEntry {
  readonly value: unknown
  readonly weight: number
}

/** value identity → { value, weight }; weights are never 0. */
export type Bag = Map<string, BagEntry>

/** Structural identity of a value: object key order does not matter, -0 is 0. */
export function keyOf(v: unknown): string {
  switch (typeof v) {
    case 'number':
      if (Number.isNaN(v)) throw new Error('oracle: NaN')
      return 'n' + String(v === 0 ? 0 : v)
    case 'string':
      return 's' + JSON.stringify(v)
    case 'boolean':
      return v ? 'T' : 'F'
    case 'bigint':
      return 'b' + v.toString()
    case 'object': {
      if (v === null) return 'null'
      if (v instanceof Date) return 'd' + String(v.getTime())
      if (Array.isArray(v)) return '[' + v.map(keyOf).join(',') + ']'
      if (v instanceof Set) return 'S{' + [...v].map(keyOf).sort().join(',') + '}'
      if (v instanceof Map) {
        return 'Z{' + [...(v as Bag).entries()].map(([k, e]) => `${k}:${e.weight}`).sort().join(',') + '}'
      }
      const keys = Object.keys(v).sort()
      return '{' + keys.map((k) => JSON.stringify(k) + ':' + keyOf((v as Record<string, unknown>)[k])).join(',') + '}'
    }
  }
  throw new Error(`oracle: cannot key ${typeof v}`)
}

/** A bag from [value, weight] pairs (repeats summed, zeros dropped). */
export function bag(pairs: Iterable<readonly [unknown, number]> = []): Bag {
  const out: Bag = new Map()
  for (const [v, w] of pairs) addTo(out, v, w)
  return out
}

/** A bag with each value once per occurrence in `values`. */
export function bagOfValues(values: Iterable<unknown>): Bag {
  return bag([...values].map((v) => [v, 1] as const))
}

export function addTo(b: Bag, value: unknown, weight: number): void {
  if (weight === 0) return
  const k = keyOf(value)
  const e = b.get(k)
  const w = (e?.weight ?? 0) + weight
  if (w === 0) b.delete(k)
  else b.set(k, { value: e?.value ?? value, weight: w })
}

export function add(...bags: Bag[]): Bag {
  const out: Bag = new Map()
  for (const b of bags) for (const e of b.values()) addTo(out, e.value, e.weight)
  return out
}

export function scale(b: Bag, n: number): Bag {
  const out: Bag = new Map()
  for (const e of b.values()) addTo(out, e.value, e.weight * n)
  return out
}

export const neg = (b: Bag): Bag => scale(b, -1)
export const sub = (a: Bag, b: Bag): Bag => add(a, neg(b))

export function weightOf(b: Bag, value: unknown): number {
  return b.get(keyOf(value))?.weight ?? 0
}

/** Sorted [identity, weight] list: what two bags are compared on. */
export function signature(b: Bag): [string, number][] {
  return [...b.entries()].map(([k, e]): [string, number] => [k, e.weight]).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
}

export function bagsEqual(a: Bag, b: Bag): boolean {
  return JSON.stringify(signature(a)) === JSON.stringify(signature(b))
}

/** A readable rendering for failure messages. */
export function show(b: Bag): string {
  return signature(b)
    .map(([k, w]) => `${w} × ${k}`)
    .join('\n')
}

/** Each occurrence of a value as its own list item (weights must be positive). */
export function occurrences(b: Bag): unknown[] {
  const out: unknown[] = []
  for (const e of b.values()) {
    if (e.weight < 0) throw new Error('oracle: occurrences of a negative weight')
    for (let i = 0; i < e.weight; i++) out.push(e.value)
  }
  return out
}

// ---- operators, from scratch ----

export function map(b: Bag, f: (v: any) => unknown): Bag {
  const out: Bag = new Map()
  for (const e of b.values()) addTo(out, f(e.value), e.weight)
  return out
}

export function filter(b: Bag, f: (v: any) => boolean): Bag {
  const out: Bag = new Map()
  for (const e of b.values()) if (f(e.value)) addTo(out, e.value, e.weight)
  return out
}

export function flatMap(b: Bag, f: (v: any) => Iterable<unknown>): Bag {
  const out: Bag = new Map()
  for (const e of b.values()) for (const u of f(e.value)) addTo(out, u, e.weight)
  return out
}

/** Rows with positive weight, once each. */
export function distinct(b: Bag): Bag {
  const out: Bag = new Map()
  for (const e of b.values()) if (e.weight > 0) addTo(out, e.value, 1)
  return out
}

/** Equi-join: every pair with equal keys, weights multiplied. */
export function join(l: Bag, r: Bag, kl: (v: any) => unknown, kr: (v: any) => unknown): Bag {
  const out: Bag = new Map()
  for (const a of l.values()) {
    for (const b of r.values()) {
      if (keyOf(kl(a.value)) === keyOf(kr(b.value))) addTo(out, { left: a.value, right: b.value }, a.weight * b.weight)
    }
  }
  return out
}

/** The value stepping's outer join pairs an unmatched left row with. */
export const EMPTY_RIGHT = { kind: 'EMPTY' }

/**
 * SQL LEFT OUTER JOIN: matched pairs, plus (left, EMPTY) for each left row
 * no right row (of positive weight) matches.
 */
export function leftOuterJoin(l: Bag, r: Bag, kl: (v: any) => unknown, kr: (v: any) => unknown): Bag {
  const out = join(l, r, kl, kr)
  const rightKeys = new Set<string>()
  for (const b of r.values()) if (b.weight > 0) rightKeys.add(keyOf(kr(b.value)))
  for (const a of l.values()) {
    if (!rightKeys.has(keyOf(kl(a.value)))) addTo(out, { left: a.value, right: EMPTY_RIGHT }, a.weight)
  }
  return out
}

/** Rows grouped by key: key identity → { key, rows }. */
export function groupBy(b: Bag, key: (v: any) => unknown): Map<string, { key: unknown; rows: Bag }> {
  const out = new Map<string, { key: unknown; rows: Bag }>()
  for (const e of b.values()) {
    const k = key(e.value)
    const id = keyOf(k)
    let g = out.get(id)
    if (!g) out.set(id, (g = { key: k, rows: new Map() }))
    addTo(g.rows, e.value, e.weight)
  }
  return out
}

/**
 * SQL `SELECT SUM(pick(row)), key GROUP BY key`: one `{ left: sum, right: key }`
 * per group that has rows (a group whose rows sum to zero still has its row).
 */
export function groupSum(b: Bag, key: (v: any) => unknown, pick: (v: any) => number): Bag {
  const out: Bag = new Map()
  for (const { key: k, rows } of groupBy(b, key).values()) {
    let sum = 0
    let count = 0
    for (const e of rows.values()) {
      sum += pick(e.value) * e.weight
      count += e.weight
    }
    if (count !== 0) addTo(out, { left: sum, right: k }, 1)
  }
  return out
}

/** group → per-group map → flatten: `{ left: f(row), right: key }` for every row. */
export function groupMapFlatten(b: Bag, key: (v: any) => unknown, f: (v: any) => unknown): Bag {
  const out: Bag = new Map()
  for (const e of b.values()) addTo(out, { left: f(e.value), right: key(e.value) }, e.weight)
  return out
}

/** Lexicographic order of plain keys: numbers, strings, arrays of those. */
export function compareKeys(a: unknown, b: unknown): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareKeys(a[i], b[i])
      if (c !== 0) return c
    }
    return a.length - b.length
  }
  if (typeof a === 'number' && typeof b === 'number') return a - b
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0
  throw new Error(`oracle: cannot order ${typeof a} and ${typeof b}`)
}

/** The first n occurrences in `compare` order (weights count; only positive weights). */
export function firstN(b: Bag, n: number, compare: (x: any, y: any) => number): Bag {
  const rows = [...b.values()].filter((e) => e.weight > 0).sort((x, y) => compare(x.value, y.value))
  const out: Bag = new Map()
  let taken = 0
  for (const e of rows) {
    if (taken >= n) break
    const w = Math.min(e.weight, n - taken)
    addTo(out, e.value, w)
    taken += w
  }
  return out
}

/** All `{ left: a, right: b }` with a path of edges (positive weight) from a to b. */
export function transitiveClosure(edges: Bag): Bag {
  const next = new Map<string, { node: unknown; to: Map<string, unknown> }>()
  for (const e of edges.values()) {
    if (e.weight <= 0) continue
    const { left, right } = e.value as { left: unknown; right: unknown }
    const k = keyOf(left)
    if (!next.has(k)) next.set(k, { node: left, to: new Map() })
    next.get(k)!.to.set(keyOf(right), right)
  }
  const out: Bag = new Map()
  for (const { node } of next.values()) {
    const seen = new Map<string, unknown>()
    const stack = [keyOf(node)]
    while (stack.length) {
      const here = next.get(stack.pop()!)
      if (!here) continue
      for (const [k, to] of here.to) {
        if (seen.has(k)) continue
        seen.set(k, to)
        stack.push(k)
      }
    }
    for (const to of seen.values()) addTo(out, { left: node, right: to }, 1)
  }
  return out
}
