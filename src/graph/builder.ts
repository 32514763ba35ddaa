/**
 * The query builder: while `st.compile` runs the user's build function, operator
 * calls add vertices to the graph being built. Composite operators open a
 * "frame" so that every vertex gets a deterministic path such as
 * `join/integrate_indexed/delay`; `{ name }` pins a frame's name.
 */
import { GraphError } from '../values/errors.js'
import { type Algebra, type GraphDef, type ValueKind, type Vertex, type VertexKind, type VertexParams, Scope } from './graph.js'

export class BuildContext {
  private nextId = 0
  private readonly frames: string[] = []
  private readonly counters = new Map<string, number>()
  private readonly pinned = new Set<string>()
  readonly feedbacks: Vertex[] = []
  /** Run once the GraphDef exists (caches bind to their delay vertex). */
  readonly onCompiled: ((graph: GraphDef) => void)[] = []
  scope: Scope

  constructor(readonly root: Scope) {
    this.scope = root
  }

  private prefix(): string {
    return this.frames.join('/')
  }

  /** A unique name for `base` under the current frame: `base`, then `base#2`, ... */
  private unique(base: string): string {
    const key = this.prefix() + '/' + base
    const n = (this.counters.get(key) ?? 0) + 1
    this.counters.set(key, n)
    return n === 1 ? base : `${base}#${n}`
  }

  frame<R>(name: string, pinnedName: string | undefined, fn: () => R): R {
    let segment: string
    if (pinnedName !== undefined) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(pinnedName)) {
        throw new GraphError(`name ${JSON.stringify(pinnedName)} must be an identifier (it names tables)`)
      }
      const full = this.prefix() + '/' + pinnedName
      if (this.pinned.has(full)) throw new GraphError(`two operators are both named "${pinnedName}"`)
      this.pinned.add(full)
      segment = pinnedName
    } else {
      segment = this.unique(name)
    }
    this.frames.push(segment)
    try {
      return fn()
    } finally {
      this.frames.pop()
    }
  }

  vertex(kind: VertexKind, value: ValueKind, inputs: Vertex[], params: VertexParams = {}, name: string = kind): Vertex {
    const path = [this.prefix(), this.unique(name)].filter((s) => s !== '').join('/')
    const v: Vertex = { id: this.nextId++, path, kind, inputs, value, scope: this.scope, params }
    this.scope.vertices.push(v)
    return v
  }

  inScope<R>(scope: Scope, fn: () => R): R {
    const previous = this.scope
    this.scope = scope
    try {
      return fn()
    } finally {
      this.scope = previous
    }
  }
}

let current: BuildContext | undefined

export function currentContext(): BuildContext {
  if (!current) throw new GraphError('stepping operators can only be called inside st.compile(inputs, build)')
  return current
}

export function withContext<R>(ctx: BuildContext, fn: () => R): R {
  const previous = current
  current = ctx
  try {
    return fn()
  } finally {
    current = previous
  }
}

/** A stream of ZSets of rows `T` (one ZSet per iteration). */
export class Stream<T> {
  declare readonly __row: T
  constructor(
    /** @internal */ readonly vertex: Vertex,
    /** @internal */ readonly ctx: BuildContext,
  ) {}
}

/** A stream of single values (the result of `makeScalar`). */
export class Scalar<T> {
  declare readonly __value: T
  constructor(
    /** @internal */ readonly vertex: Vertex,
    /** @internal */ readonly ctx: BuildContext,
    /** @internal */ readonly algebra: Algebra<T>,
  ) {}
}

/** A stream of ZSets of rows `T` split into groups keyed by `K`. */
export class Grouped<T, K> {
  declare readonly __row: T
  declare readonly __key: K
  constructor(
    /** @internal */ readonly vertex: Vertex,
    /** @internal */ readonly ctx: BuildContext,
  ) {}
}

export type AnyStream = Stream<any> | Scalar<any> | Grouped<any, any>

/** Check a stream may be used here: same graph, same scope. Returns its vertex. */
export function use(s: AnyStream, what: string): Vertex {
  const ctx = currentContext()
  if (!(s instanceof Stream || s instanceof Scalar || s instanceof Grouped)) {
    throw new GraphError(`${what}: expected a stream, got ${s === null ? 'null' : typeof s}`)
  }
  if (s.ctx !== ctx) {
    throw new GraphError(`${what}: this stream belongs to another graph (streams cannot be shared between st.compile calls)`)
  }
  if (s.vertex.scope !== ctx.scope) {
    throw new GraphError(
      `${what}: the stream ${s.vertex.path} comes from outside the current ${ctx.scope.kind} scope; ` +
        `inside perGroup only the group's own stream (and streams made from it) can be used`,
    )
  }
  return s.vertex
}

export function streamOf<T>(v: Vertex): Stream<T> {
  return new Stream<T>(v, currentContext())
}

/** A stream to use before it is defined, for recursive queries; `.close(s)` says what it is. */
export class Feedback<T> extends Stream<T> {
  close(s: Stream<T>): void {
    const target = use(s, 'feedback.close')
    if (this.vertex.params.closedBy) throw new GraphError(`feedback ${this.vertex.path} is already closed`)
    this.vertex.params.closedBy = target
  }
}

export function feedback<T>(): Feedback<T> {
  const ctx = currentContext()
  const v = ctx.vertex('feedback', 'zset', [])
  ctx.feedbacks.push(v)
  return new Feedback<T>(v, ctx)
}
