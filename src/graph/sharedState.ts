/**
 * State one delay can read from another's instead of keeping its own.
 *
 * Fixed points (paper §7) keep their inner state across steps, and an inner
 * integral of its result holds, once a step's fixed point is reached, the
 * integral of everything the fixed point has output: the same rows an outer
 * integral of its output holds after that step. When an outer `add(delay,
 * fixedPoint)` integral is read only through its sum (a join's "so far" side)
 * and needs no index the inner one lacks, the sum is read from the inner
 * state and the outer delay stores nothing.
 *
 * Distinct (paper Prop. 6.3) keeps I(x) up to the previous step to compute
 * distinct^Δ(x) = H(z⁻¹(I(x)), x); the integral of its output is
 * I(distinct^Δ(x)) = distinct(I(x)), the rows of I(x) with positive weight. So
 * an integral of distinct's output, read at the step distinct's state stands
 * for, is that state's support (`stateMap: 'support'`): a join's integral of a
 * distinct (transitive closure, outer join) keeps no rows of its own.
 *
 * A group-reduce (§11.1 lifted per group) keeps each group's running totals;
 * its flattened output integrates to those totals as (sum, key) pairs, so an
 * integral of it read by the group key (an outer join on a group-by's result)
 * reads the totals (`stateMap: 'groupTotals'`).
 *
 * operators/add.ts reads a shared sum, runtime/evaluate.ts plans no write for a
 * delay with `stateOf` and maps its rows, the stores give it the other table.
 */
import { GROUP_KEY_INDEX } from '../zset/indexes.js'
import { consumersIn, integratedStream, type Scope, type Vertex } from './graph.js'

/** Both passes, derived integrals first: a fixed point's inner integral may itself read a distinct's state. */
export function shareState(root: Scope, outputs: readonly Vertex[]): void {
  shareDerivedIntegrals(root, outputs)
  shareFixedPointIntegrals(root, outputs)
}

/** Each vertex's readers in `scope`, counting what the scope hands out (`outputs`) as read too. */
function readersIn(scope: Scope, outputs: readonly Vertex[]): Map<Vertex, Vertex[]> {
  const consumers = consumersIn(scope)
  for (const v of outputs) consumers.set(v, [...(consumers.get(v) ?? []), v])
  return consumers
}

function shareFixedPointIntegrals(root: Scope, outputs: readonly Vertex[]): void {
  const consumers = readersIn(root, outputs)
  for (const delay of root.delays) {
    const stream = integratedStream(delay)
    const innerSum = stream?.kind === 'fixedPoint' ? stream.params.outputIntegral : undefined
    const inner = innerSum?.inputs.find((v) => v.kind === 'delay' && integratedStream(v) !== undefined && v.inputs[0] === innerSum)
    if (!inner) continue
    const sum = delay.inputs[0]!
    // Read through the sum only: the delay's own value (the integral before this step) is not kept.
    if ((consumers.get(delay) ?? []).some((c) => c !== sum)) continue
    const owner = inner.params.stateOf ?? inner
    // A cache is read as stored: it cannot be a view of other rows.
    if (delay.params.cache && inner.params.stateMap) continue
    const held = new Set((owner.params.indexes ?? []).map((i) => i.id))
    if (!(delay.params.indexes ?? []).every((i) => held.has(i.id))) continue
    delay.params.stateOf = owner
    if (inner.params.stateMap) delay.params.stateMap = inner.params.stateMap
  }
}

/**
 * Integrals that read as a state kept anyway. Of a distinct's output, its state's support: an
 * integral of distinct^Δ(x) read through its delay (I up to t−1), or an integral
 * of z⁻¹(distinct^Δ(x)) read through its sum (also I up to t−1).
 */
function shareDerivedIntegrals(scope: Scope, outputs: readonly Vertex[]): void {
  if (scope.kind === 'perGroup') return // per-group states are stored per group key, not by the rows' indexes
  const consumers = readersIn(scope, outputs)
  const readersOf = (v: Vertex, except: Vertex): Vertex[] => (consumers.get(v) ?? []).filter((c) => c !== except)
  for (const delay of scope.delays) {
    const stream = integratedStream(delay)
    // A cache is read as stored: it cannot be a view of other rows.
    if (!stream || delay.params.stateOf || delay.params.cache) continue
    const sum = delay.inputs[0]!
    let haitch: Vertex | undefined
    if (stream.kind === 'haitch') {
      // I(distinct^Δ(x)) at t−1: the delay's own value; the sum (at t) feeds only the delay.
      if (readersOf(sum, delay).length === 0) haitch = stream
    } else if (stream.kind === 'delay' && integratedStream(stream) === undefined && stream.inputs[0]?.kind === 'haitch') {
      // I(z⁻¹(distinct^Δ(x))) at t is I(distinct^Δ(x)) at t−1: the sum; the delay's own value feeds only the sum.
      if (readersOf(delay, sum).length === 0) haitch = stream.inputs[0]
    }
    if (!haitch) {
      if (stream.kind === 'flatten' && readersOf(sum, delay).length === 0) shareGroupTotals(delay, stream)
      continue
    }
    const state = haitch.inputs[0]
    if (!state || state.kind !== 'delay' || state.params.stateOf || integratedStream(state) !== haitch.inputs[1]) continue
    const held = new Map((state.params.indexes ?? []).map((i) => [i.id, i]))
    for (const i of delay.params.indexes ?? []) if (!held.has(i.id)) held.set(i.id, i)
    state.params.indexes = [...held.values()]
    delay.params.stateOf = state
    delay.params.stateMap = 'support'
  }
  for (const v of scope.vertices) {
    const sub = v.params.sub
    // A fixed point hands out its output and, to outer integrals, its output integral.
    if (sub) shareDerivedIntegrals(sub, [sub.output, v.params.outputIntegral].filter((x) => x !== undefined))
  }
}

/**
 * An integral of flatten(perGroup(reduce)) read through its delay (up to t−1)
 * is the reduce's per-group totals as (sum, key) pairs, when it is read by the
 * group key alone: the totals' rows are indexed by that key (`right`) already.
 */
function shareGroupTotals(delay: Vertex, flatten: Vertex): void {
  const perGroup = flatten.inputs[0]
  const totals = perGroup?.kind === 'perGroup' ? perGroup.params.sub?.output?.params.totalsOf : undefined
  const indexes = delay.params.indexes ?? []
  // Read by that key only: by whole rows, the totals would have to be read whole.
  if (!totals || indexes.length === 0 || !indexes.every((i) => i.id === GROUP_KEY_INDEX.id)) return
  delay.params.stateOf = totals
  delay.params.stateMap = 'groupTotals'
}
