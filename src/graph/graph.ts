/**
 * Circuits (paper §3): vertices are operators on streams, `delay` (z⁻¹) is the
 * only stateful primitive. A graph is a root scope plus nested scopes for
 * per-group lifting (§ grouped delays) and fixed points (§7, recursion).
 */
import type { Index } from '../zset/indexes.js'

export type ValueKind = 'zset' | 'scalar' | 'grouped'

export type VertexKind =
  | 'input'
  | 'scopeInput'
  | 'feedback'
  | 'map'
  | 'mapMany'
  | 'filter'
  | 'add'
  | 'neg'
  | 'delay'
  | 'join'
  | 'haitch'
  | 'aggregate'
  | 'aggregateToSet'
  | 'makeSet'
  | 'makeScalar'
  | 'firstN'
  | 'group'
  | 'flatten'
  | 'perGroup'
  | 'fixedPoint'
  | 'identityPrint'

/** How scalar streams add up: integrate and differentiate need zero, + and −. */
export interface Algebra<V> {
  zero(): V
  add(a: V, b: V): V
  neg(a: V): V
}

export interface Vertex {
  readonly id: number
  /** Deterministic for the same build function: names the vertex in errors, pictures and tables. */
  readonly path: string
  readonly kind: VertexKind
  inputs: Vertex[]
  readonly value: ValueKind
  readonly scope: Scope
  readonly params: VertexParams
  /** Set by compile: every consumer is linear, so this vertex may hand on an unconsolidated bag (zset/bag.ts). */
  bagOutput?: boolean
}

export interface VertexParams {
  f?: (...args: any[]) => any
  index?: Index<any, any>
  onLeft?: Index<any, any>
  onRight?: Index<any, any>
  indexes?: readonly Index<any, any>[]
  n?: number
  algebra?: Algebra<any>
  zero?: () => any
  pick?: (row: any) => any
  retractEmpty?: boolean
  by?: Index<any, any>
  sub?: Scope
  inputNumber?: number
  closedBy?: Vertex
  label?: string
  /** On a fixedPoint: an inner integral (its `add(delay, change)`) whose state holds, after each step, the integral of the fixed point's output. */
  outputIntegral?: Vertex
  /** On a delay of a fixed point's own output (set by compile, graph/transientState.ts): ∅ between runs, kept in memory during one. */
  transient?: boolean
  /** On a delay holding a cache (operators/cache.ts): its rows are also read as stored, from outside the circuit. */
  cache?: boolean
  /** On a delay (set by compile, graph/sharedState.ts): its integral is read from this delay's state; it keeps none. */
  stateOf?: Vertex
  /**
   * With `stateOf`: how this delay's rows follow from that state. 'support': the
   * rows of positive weight, each with weight 1 (distinct's output integrated, read
   * from distinct's own integral). 'groupTotals': each group's `{ sum, count }`
   * row as the pair (sum, key), none where count is 0 (a group-reduce's output
   * integrated, read from its per-group totals). See graph/sharedState.ts.
   */
  stateMap?: 'support' | 'groupTotals'
  /**
   * On a reduce's result inside perGroup (set by reduce): the delay holding each
   * group's running totals, so a flatten of the groups' results integrates to
   * that state's rows (graph/sharedState.ts).
   */
  totalsOf?: Vertex
  /**
   * On a ZSet vertex whose consumers are all linear: hand on a consolidated ZSet all
   * the same, because its rows often cancel and what follows costs more per row
   * than an identity does (outerJoin's unmatched left rows, see there).
   */
  consolidate?: boolean
}

/**
 * The stream a delay integrates, when its input is `add(itself, stream)`: the
 * delay then holds I(stream) up to the previous step (paper Def. 3.27).
 */
export function integratedStream(delay: Vertex): Vertex | undefined {
  if (delay.kind !== 'delay' || delay.value !== 'zset') return undefined
  const sum = delay.inputs[0]
  if (!sum || sum.kind !== 'add' || sum.inputs.length !== 2) return undefined
  const [a, b] = sum.inputs as [Vertex, Vertex]
  if (a === delay && b !== delay) return b
  if (b === delay && a !== delay) return a
  return undefined
}

/** Each vertex of `scope` with the vertices of that scope that read it. */
export function consumersIn(scope: Scope): Map<Vertex, Vertex[]> {
  const consumers = new Map<Vertex, Vertex[]>()
  for (const v of scope.vertices) {
    for (const i of v.inputs) {
      const list = consumers.get(i)
      if (list) list.push(v)
      else consumers.set(i, [v])
    }
  }
  return consumers
}

export type ScopeKind = 'root' | 'perGroup' | 'fixedPoint'

export class Scope {
  readonly vertices: Vertex[] = []
  input: Vertex | undefined
  output: Vertex | undefined
  /** Vertices in evaluation order (delay inputs do not count as dependencies). */
  order: Vertex[] = []
  delays: Vertex[] = []

  constructor(
    readonly kind: ScopeKind,
    readonly path: string,
    readonly parent?: Scope,
  ) {}
}

/** A compiled query: its inputs, outputs and every delay vertex (state) in it. */
export class GraphDef {
  constructor(
    readonly root: Scope,
    readonly inputs: readonly Vertex[],
    readonly outputs: readonly Vertex[],
    readonly inputSchemas: readonly (InputValidator | undefined)[],
  ) {}

  /** Every delay vertex, nested scopes included, in a deterministic order. */
  get delays(): Vertex[] {
    const out: Vertex[] = []
    const walk = (s: Scope): void => {
      for (const v of s.order) {
        if (v.kind === 'delay') out.push(v)
        if (v.params.sub) walk(v.params.sub)
      }
    }
    walk(this.root)
    return out
  }

  /** The delays whose state a store keeps: all but the transient ones (graph/transientState.ts). */
  get storedDelays(): Vertex[] {
    return this.delays.filter((d) => !d.params.transient)
  }

  /** Every vertex, nested scopes included. */
  get allVertices(): Vertex[] {
    const out: Vertex[] = []
    const walk = (s: Scope): void => {
      for (const v of s.order) {
        out.push(v)
        if (v.params.sub) walk(v.params.sub)
      }
    }
    walk(this.root)
    return out
  }
}

export interface InputValidator {
  validate(row: unknown): { ok: true } | { ok: false; message: string }
}
