/**
 * join: the equi-join of two ZSets, weights multiplied (bilinear, paper §4).
 * `join` is its incremental form by Theorem 5.5:
 *   (a ⋈ b)^Δ = I(a) ⋈ Δb  +  Δa ⋈ z⁻¹(I(b))
 * so each side's history is kept indexed by its join key and only the rows
 * matching this step's changes are read.
 */
import { type Stream, currentContext, streamOf, use } from '../graph/builder.js'
import type { Vertex } from '../graph/graph.js'
import { pairText } from '../values/encode.js'
import { pair, type Pair } from '../values/value.js'
import type { Index } from '../zset/indexes.js'
import { type Entry, ZSet } from '../zset/zset.js'
import { Bag } from '../zset/bag.js'
import { KeyGroups } from '../zset/keyGroups.js'
import type { RowsByKey } from '../zset/rowsByKey.js'
import { ZSetView } from '../runtime/view.js'
import { add } from './add.js'
import type { StateOptions } from './delay.js'
import { integrateDelayIndexed, integrateIndexed } from './integrate.js'
import { registerOperator } from './registry.js'

export interface JoinOptions<L, R, K> extends StateOptions {
  onLeft: Index<L, K>
  onRight: Index<R, K>
}

/** The plain (non-incremental) join of two ZSet streams. */
export function joinRaw<L, R, K>(l: Stream<L>, r: Stream<R>, onLeft: Index<L, K>, onRight: Index<R, K>): Stream<Pair<L, R>> {
  const vl = use(l, 'join')
  const vr = use(r, 'join')
  return streamOf(currentContext().vertex('join', 'zset', [vl, vr], { onLeft, onRight }))
}

export function join<L, R, K>(l: Stream<L>, r: Stream<R>, options: JoinOptions<L, R, K>): Stream<Pair<L, R>> {
  const { onLeft, onRight } = options
  if (!onLeft || !onRight) throw new TypeError('join: onLeft and onRight indexes are required')
  use(l, 'join')
  use(r, 'join')
  return currentContext().frame('join', options.name, () => {
    const leftSoFar = integrateIndexed(l, [onLeft])
    const rightBefore = integrateDelayIndexed(r, [onRight])
    return add(joinRaw(leftSoFar, r, onLeft, onRight), joinRaw(l, rightBefore, onLeft, onRight))
  })
}

function bucketsByKey<T>(z: ZSet<T>, index: Index<T, unknown>): Map<string, Entry<T>[]> {
  const out = new Map<string, Entry<T>[]>()
  const groups = new KeyGroups(index, (_key, encoded) => {
    const list: Entry<T>[] = []
    out.set(encoded, list)
    return list
  })
  for (const e of z.eachEntry()) groups.of(index.key(e.value)).push(e)
  return out
}

type Joined<L, R> = ZSet<Pair<L, R>> | Bag<Pair<L, R>>

/** Join `l` with the right rows grouped by key (each side's key is computed once per row). */
function joinWithRightBuckets<L, R>(out: Joined<L, R>, l: ZSet<L>, onLeft: Index<L, unknown>, right: Map<string, Entry<R>[]>): Joined<L, R> {
  for (const le of l.eachEntry()) {
    const matches = right.get(onLeft.encodeKey(onLeft.key(le.value)))
    if (matches) for (const re of matches) emit(out, le, re)
  }
  return out
}

function joinWithLeftBuckets<L, R>(out: Joined<L, R>, left: Map<string, Entry<L>[]>, r: ZSet<R>, onRight: Index<R, unknown>): Joined<L, R> {
  for (const re of r.eachEntry()) {
    const matches = left.get(onRight.encodeKey(onRight.key(re.value)))
    if (matches) for (const le of matches) emit(out, le, re)
  }
  return out
}

function joinZSets<L, R>(out: Joined<L, R>, l: ZSet<L>, r: ZSet<R>, onLeft: Index<L, unknown>, onRight: Index<R, unknown>): Joined<L, R> {
  if (l.entryCount === 0 || r.entryCount === 0) return out
  // Bucket the smaller side, probe with the larger.
  return l.entryCount <= r.entryCount
    ? joinWithLeftBuckets(out, bucketsByKey(l, onLeft), r, onRight)
    : joinWithRightBuckets(out, l, onLeft, bucketsByKey(r, onRight))
}

/**
 * Every pair of a state row under key `k` and a changed row with that key (the
 * join is bilinear, so unconsolidated rows are fine). The state's rows are read
 * by position: no object per row; a row's text is asked for only when the
 * output is a ZSet.
 */
function pairStateLeft<L, R>(out: Joined<L, R>, lefts: RowsByKey<L>, k: number, rights: Entry<R>[]): void {
  for (let j = 0, n = lefts.count(k); j < n; j++) {
    const value = lefts.value(k, j)
    const weight = lefts.weight(k, j)
    if (out instanceof Bag) for (const re of rights) out.push(pair(value, re.value), weight * re.weight)
    else {
      const text = lefts.text(k, j)
      for (const re of rights) out.addWeight(pairText(text, re.key), pair(value, re.value), weight * re.weight)
    }
  }
}

function pairStateRight<L, R>(out: Joined<L, R>, lefts: Entry<L>[], rights: RowsByKey<R>, k: number): void {
  for (let j = 0, n = rights.count(k); j < n; j++) {
    const value = rights.value(k, j)
    const weight = rights.weight(k, j)
    if (out instanceof Bag) for (const le of lefts) out.push(pair(le.value, value), le.weight * weight)
    else {
      const text = rights.text(k, j)
      for (const le of lefts) out.addWeight(pairText(le.key, text), pair(le.value, value), le.weight * weight)
    }
  }
}

function emit<L, R>(out: Joined<L, R>, le: Entry<L>, re: Entry<R>): void {
  // A bag's pairs need no identity: skip building the pair's canonical text.
  if (out instanceof Bag) out.push(pair(le.value, re.value), le.weight * re.weight)
  else out.addWeight(pairText(le.key, re.key), pair(le.value, re.value), le.weight * re.weight)
}

async function evaluateJoin(v: Vertex, l: unknown, r: unknown): Promise<Joined<unknown, unknown>> {
  const onLeft = v.params.onLeft!
  const onRight = v.params.onRight!
  const out: Joined<unknown, unknown> = v.bagOutput ? new Bag(v.path) : new ZSet()
  // Two lazy sides (in recursion: an integral and the previous step's delayed change):
  // read the small one whole and look the other up by its keys, never the whole integral.
  if (l instanceof ZSetView && r instanceof ZSetView && l.isIntegral !== r.isIntegral) {
    if (l.isIntegral) r = await r.materialize()
    else l = await l.materialize()
  }
  // One side is this step's change, the other the state: bucket the change once, and
  // use its keys both to read the state and to match the rows read.
  if (l instanceof ZSetView && r instanceof ZSet) {
    if (r.entryCount === 0) return out
    const right = bucketsByKey(r, onRight)
    const keys = [...right.keys()]
    const lefts = await l.lookupEach(onLeft, keys)
    for (let k = 0; k < keys.length; k++) pairStateLeft(out, lefts, k, right.get(keys[k]!)!)
    return out
  }
  if (r instanceof ZSetView && l instanceof ZSet) {
    if (l.entryCount === 0) return out
    const left = bucketsByKey(l, onLeft)
    const keys = [...left.keys()]
    const rights = await r.lookupEach(onRight, keys)
    for (let k = 0; k < keys.length; k++) pairStateRight(out, left.get(keys[k]!)!, rights, k)
    return out
  }
  const lz = l instanceof ZSetView ? await l.materialize() : (l as ZSet<unknown>)
  const rz = r instanceof ZSetView ? await r.materialize() : (r as ZSet<unknown>)
  return joinZSets(out, lz, rz, onLeft, onRight)
}

registerOperator('join', { lazy: true, evaluate: (v, [l, r]) => evaluateJoin(v, l, r) })
