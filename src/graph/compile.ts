/**
 * `st.compile(inputs, build)`: runs the build function once, then resolves
 * feedback streams, checks every cycle passes through a delay, and orders each
 * scope's vertices for evaluation.
 */
import { GraphError } from '../values/errors.js'
import { BuildContext, Stream, withContext } from './builder.js'
import { markBagOutputs } from './consolidation.js'
import { shareState } from './sharedState.js'
import { markTransientDelays } from './transientState.js'
import { GraphDef, type InputValidator, Scope, type Vertex } from './graph.js'

/** An input without a runtime schema: `st.input<Row>()`. */
export interface InputMarker<T> {
  readonly __input: true
  readonly __row?: T
  readonly name?: string
}

export function input<T>(options: { name?: string } = {}): InputMarker<T> {
  return { __input: true, ...options }
}

/** Anything with zod's `safeParse` (zod v4 schemas) validates rows at the boundary. */
export interface SchemaLike<T> {
  safeParse(v: unknown): { success: true; data: T } | { success: false; error: { message: string; issues?: unknown[] } }
}

export type InputSpec = InputMarker<any> | SchemaLike<any>

export type RowOf<S> = S extends InputMarker<infer T> ? T : S extends SchemaLike<infer T> ? T : never

export type StreamsOf<I extends readonly InputSpec[]> = { [K in keyof I]: Stream<RowOf<I[K]>> }
export type RowsOf<I extends readonly InputSpec[]> = { -readonly [K in keyof I]: RowOf<I[K]> }

export type OutputSpec = Stream<any> | readonly Stream<any>[] | void
export type OutputRows<O> = O extends Stream<infer T>
  ? [T]
  : O extends readonly Stream<any>[]
    ? { -readonly [K in keyof O]: O[K] extends Stream<infer T> ? T : never }
    : []

/** A compiled, fully typed query: `In` and `Out` are tuples of row types. */
export class Graph<In extends readonly unknown[], Out extends readonly unknown[]> {
  declare readonly __in: In
  declare readonly __out: Out
  constructor(/** @internal */ readonly def: GraphDef) {}

  get inputCount(): number {
    return this.def.inputs.length
  }
}

function validatorFor(spec: InputSpec, i: number): InputValidator | undefined {
  if (spec && typeof (spec as SchemaLike<unknown>).safeParse === 'function') {
    const schema = spec as SchemaLike<unknown>
    return {
      validate(row) {
        const r = schema.safeParse(row)
        if (r.success) return { ok: true }
        const issues = (r.error.issues ?? []) as { path?: PropertyKey[]; message?: string }[]
        const message = issues.length
          ? issues.map((x) => `${x.path?.length ? x.path.map(String).join('.') + ': ' : ''}${x.message}`).join('; ')
          : r.error.message
        return { ok: false, message }
      },
    }
  }
  if (spec && (spec as InputMarker<unknown>).__input === true) return undefined
  throw new GraphError(`st.compile: input ${i} must be a zod schema or st.input<T>(), got ${typeof spec}`)
}

export function compile<const I extends readonly InputSpec[], const O extends OutputSpec>(
  inputs: I,
  build: (...streams: StreamsOf<I>) => O,
): Graph<RowsOf<I>, OutputRows<O>> {
  if (!Array.isArray(inputs)) throw new GraphError('st.compile: the first argument is the list of inputs')
  const validators = inputs.map(validatorFor)
  const root = new Scope('root', '')
  const ctx = new BuildContext(root)
  const { inputVertices, outputs } = withContext(ctx, () => {
    const inputVertices = inputs.map((spec, i) =>
      ctx.vertex('input', 'zset', [], { inputNumber: i }, (spec as InputMarker<unknown>).name ?? `input_${i}`),
    )
    const streams = inputVertices.map((v) => new Stream(v, ctx)) as unknown as StreamsOf<I>
    const result = build(...streams)
    const list = result === undefined ? [] : result instanceof Stream ? [result] : [...(result as Stream<unknown>[])]
    for (const s of list) {
      if (!(s instanceof Stream)) throw new GraphError('st.compile: build must return a stream or an array of streams')
      if (s.ctx !== ctx) throw new GraphError('st.compile: build returned a stream from another graph')
      if (s.vertex.scope !== root) throw new GraphError('st.compile: build returned a stream from inside a perGroup')
    }
    return { inputVertices, outputs: list.map((s) => s.vertex) }
  })
  resolveFeedbacks(ctx)
  finishScope(root)
  markBagOutputs(root, outputs)
  markTransientDelays(root)
  shareState(root, outputs)
  const def = new GraphDef(root, inputVertices, outputs, validators)
  for (const f of ctx.onCompiled) f(def)
  return new Graph(def)
}

function resolveFeedbacks(ctx: BuildContext): void {
  for (const fb of ctx.feedbacks) {
    if (!fb.params.closedBy) {
      throw new GraphError(`feedback ${fb.path} was never closed: call .close(stream) on it inside build`)
    }
  }
  const target = (v: Vertex): Vertex => {
    const seen = new Set<Vertex>()
    while (v.kind === 'feedback') {
      if (seen.has(v)) throw new GraphError(`feedback ${v.path} is closed by itself`)
      seen.add(v)
      v = v.params.closedBy!
    }
    return v
  }
  const fix = (s: Scope): void => {
    for (const v of s.vertices) {
      v.inputs = v.inputs.map(target)
      if (v.params.sub) fix(v.params.sub)
    }
    if (s.output) s.output = target(s.output)
    const i = s.vertices.findIndex((v) => v.kind === 'feedback')
    if (i >= 0) s.vertices.splice(0, s.vertices.length, ...s.vertices.filter((v) => v.kind !== 'feedback'))
  }
  fix(ctx.root)
}

/** Order a scope for evaluation; a cycle that does not pass through a delay is an error. */
function finishScope(scope: Scope): void {
  const vertices = scope.vertices
  const deps = new Map<Vertex, Vertex[]>()
  for (const v of vertices) deps.set(v, v.kind === 'delay' ? [] : v.inputs)
  const order: Vertex[] = []
  const state = new Map<Vertex, 'visiting' | 'done'>()
  const visit = (v: Vertex, trail: Vertex[]): void => {
    const s = state.get(v)
    if (s === 'done') return
    if (s === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(v)), v].map((x) => x.path).join(' → ')
      throw new GraphError(`a cycle without a delay: ${cycle} (put st.delay somewhere on the loop)`)
    }
    state.set(v, 'visiting')
    for (const d of deps.get(v) ?? []) {
      if (d.scope !== scope) throw new GraphError(`vertex ${v.path} reads ${d.path} from another scope`)
      visit(d, [...trail, v])
    }
    state.set(v, 'done')
    order.push(v)
  }
  for (const v of vertices) visit(v, [])
  scope.order = order
  scope.delays = order.filter((v) => v.kind === 'delay')
  for (const v of vertices) if (v.params.sub) finishScope(v.params.sub)
}
