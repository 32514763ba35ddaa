/**
 * The query builder: deterministic vertex paths (they name the SQL stores'
 * tables), `{ name }` to pin them, and validation errors at compile time.
 */
import test from 'ava'
import * as st from '../src/index.js'
import { storeTest } from './helpers/stores.js'
import { assertRows } from './helpers/zsets.js'

type Row = { user: string; n: number }
const byUser = st.index<Row>((r) => r.user)

/** [path, kind] of every vertex, nested scopes included. */
const vertices = (g: st.Graph<any, any>) => g.def.allVertices.map((v) => [v.path, v.kind] as const)
/** Paths of the delay vertices: the state a store keeps. */
const statePaths = (g: st.Graph<any, any>) => g.def.delays.map((v) => v.path)

function build(rows: st.Stream<Row>, other: st.Stream<Row>) {
  const joined = st.join(rows, other, { onLeft: byUser, onRight: byUser })
  const grouped = st.groupReduceFlatten(rows, { by: byUser, zero: () => 0, pick: (r) => r.n })
  const closure = st.transitiveClosure(st.map(rows, (r) => st.pair(r.user, String(r.n))))
  const firsts = st.firstN(other, { index: byUser, n: 2 })
  return [joined, grouped, closure, st.distinct(firsts), st.outerJoin(rows, other, { onLeft: byUser, onRight: byUser })] as const
}

test('vertex paths are deterministic for the same build function', (t) => {
  const a = st.compile([st.input<Row>(), st.input<Row>()], build)
  const b = st.compile([st.input<Row>(), st.input<Row>()], build)
  t.deepEqual(vertices(a), vertices(b))
  t.deepEqual(statePaths(a), statePaths(b))
  // ... and for the same query written out again (paths do not depend on function identity)
  const c = st.compile([st.input<Row>(), st.input<Row>()], (x, y) => build(x, y))
  t.deepEqual(vertices(a), vertices(c))
  // every path is unique
  const paths = vertices(a).map(([p]) => p)
  t.is(new Set(paths).size, paths.length)
  // paths say where the vertex sits in the query
  t.true(statePaths(a).includes('join/integrate_indexed/delay'))
  t.true(statePaths(a).includes('join/integrate_delay_indexed/delay'))
  t.true(statePaths(a).some((p) => p.startsWith('group_reduce/per_group/reduce/')))
  t.true(statePaths(a).some((p) => p.startsWith('transitive_closure/')))
  t.true(statePaths(a).some((p) => p.startsWith('first_n/')))
  t.true(statePaths(a).some((p) => p.startsWith('outer_join/')))
})

test('the same operator used twice gets numbered paths, in build order', (t) => {
  const g = st.compile([st.input<number>()], (a) => [st.integrate(a), st.integrate(st.map(a, (n) => n + 1))])
  t.deepEqual(statePaths(g), ['integrate/delay', 'integrate#2/delay'])
})

test('{ name } pins a stateful operator\'s paths, whatever is built before it', (t) => {
  const plain = st.compile([st.input<Row>()], (a) => st.integrate(a, { name: 'totals' }))
  const more = st.compile([st.input<Row>()], (a) => {
    st.integrate(st.distinct(a))
    st.integrate(a)
    return st.integrate(a, { name: 'totals' })
  })
  t.deepEqual(statePaths(plain), ['totals/delay'])
  t.true(statePaths(more).includes('totals/delay'))
  t.true(statePaths(more).includes('integrate#2/delay'))

  const named = st.compile([st.input<Row>(), st.input<Row>()], (a, b) => {
    const cache = st.cache<Row>()
    cache.integrateIndexed(a, [byUser], { name: 'rows_cache' })
    return [
      st.join(a, b, { onLeft: byUser, onRight: byUser, name: 'users' }),
      st.groupReduceFlatten(a, { by: byUser, zero: () => 0, pick: (r) => r.n, name: 'sums' }),
      st.distinct(b, { name: 'uniq' }),
      st.firstN(b, { index: byUser, n: 1, name: 'top' }),
      st.transitiveClosure(st.map(a, (r) => st.pair(r.user, r.user)), { name: 'reach' }),
      st.delay(a, { name: 'before' }),
    ]
  })
  const paths = statePaths(named)
  for (const prefix of ['rows_cache/', 'users/', 'sums/', 'uniq/', 'top/', 'reach/', 'before/']) {
    t.true(
      paths.some((p) => p.startsWith(prefix)),
      `a state path starting ${prefix} in ${paths.join(', ')}`,
    )
  }
})

storeTest('a pinned path survives changes elsewhere in the query: the state is found again', async (t, open) => {
  // Two versions of a query share the named integral; the path (the table name
  // in the SQL stores) is the same, so a store built for one has the same
  // state layout for it in the other.
  const v1 = st.compile([st.input<number>()], (a) => st.integrate(a, { name: 'kept' }))
  const v2 = st.compile([st.input<number>()], (a) => {
    st.distinct(a)
    return st.integrate(a, { name: 'kept' })
  })
  t.is(statePaths(v1).find((p) => p.startsWith('kept/')), statePaths(v2).find((p) => p.startsWith('kept/')))
  const store = await open(v2)
  await assertRows(t, (await st.actions(store, v2)[0].insert(1, 2))[0], [
    [1, 1],
    [2, 1],
  ])
})

// ---- validation ----

test('graph error: st.index with a computed key and no name', (t) => {
  t.throws(() => st.index<Row>((r) => r.user.toUpperCase()), {
    instanceOf: st.GraphError,
    message: /this key is computed, not a field path, so it needs a name: st\.index\(f, \{ name: "\.\.\." \}\)/,
  })
  t.throws(() => st.index<Row>(() => 1), { instanceOf: st.GraphError, message: /needs a name/ })
  // with a name it is fine
  t.is(st.index<Row>((r) => r.user.toUpperCase(), { name: 'upper' }).name, 'upper')
  t.throws(() => st.index<Row>(() => 1, { name: 'not a name!' }), { instanceOf: st.GraphError, message: /index name "not a name!" must match/ })
  t.throws(() => st.index<Row>((r) => [r.user, r.n], { ascending: [true] }), {
    instanceOf: st.GraphError,
    message: /ascending has 1 flags for a key of 2 components/,
  })
})

test('graph error: an unclosed feedback', (t) => {
  t.throws(
    () =>
      st.compile([st.input<number>()], (a) => {
        const f = st.feedback<number>()
        return st.add(a, st.delay(f))
      }),
    { instanceOf: st.GraphError, message: /feedback feedback was never closed: call \.close\(stream\) on it inside build/ },
  )
})

test('graph error: a feedback closed twice', (t) => {
  t.throws(
    () =>
      st.compile([st.input<number>()], (a) => {
        const f = st.feedback<number>()
        f.close(a)
        f.close(a)
        return a
      }),
    { instanceOf: st.GraphError, message: /feedback feedback is already closed/ },
  )
})

test('graph error: a cycle without a delay', (t) => {
  t.throws(
    () =>
      st.compile([st.input<number>()], (a) => {
        const f = st.feedback<number>()
        const m = st.map(st.add(a, f), (n) => n + 1)
        f.close(m)
        return m
      }),
    { instanceOf: st.GraphError, message: /a cycle without a delay: .*map.*add.*\(put st\.delay somewhere on the loop\)/ },
  )
  // with a delay on the loop it compiles
  t.notThrows(() =>
    st.compile([st.input<number>()], (a) => {
      const f = st.feedback<number>()
      const m = st.map(st.add(a, st.delay(f)), (n) => n + 1)
      f.close(m)
      return m
    }),
  )
})

test('graph error: an operator given a stream from another graph', (t) => {
  let leaked: st.Stream<number> | undefined
  st.compile([st.input<number>()], (a) => {
    leaked = a
    return a
  })
  t.throws(() => st.compile([st.input<number>()], (b) => st.add(b, leaked!)), {
    instanceOf: st.GraphError,
    message: /add: this stream belongs to another graph/,
  })
  t.throws(() => st.compile([st.input<number>()], () => leaked!), {
    instanceOf: st.GraphError,
    message: /build returned a stream from another graph/,
  })
})

test('graph error: a stream from outside perGroup used inside it', (t) => {
  t.throws(
    () =>
      st.compile([st.input<Row>()], (a) =>
        st.flatten(st.perGroup(st.group(a, { by: byUser }), (g) => st.add(g, a))),
      ),
    { instanceOf: st.GraphError, message: /add: the stream input_0 comes from outside the current perGroup scope/ },
  )
})

test('graph error: two operators pinned to the same name', (t) => {
  t.throws(
    () => st.compile([st.input<number>()], (a) => [st.integrate(a, { name: 'x' }), st.distinct(a, { name: 'x' })]),
    { instanceOf: st.GraphError, message: /two operators are both named "x"/ },
  )
  t.throws(() => st.compile([st.input<number>()], (a) => st.integrate(a, { name: 'has space' })), {
    instanceOf: st.GraphError,
    message: /name "has space" must be an identifier/,
  })
})

test('graph error: operators outside st.compile, bad inputs and bad results', (t) => {
  const g = st.compile([st.input<number>()], (a) => a)
  t.throws(() => st.map(new st.Stream<number>(g.def.inputs[0]!, undefined as never), (n) => n), {
    instanceOf: st.GraphError,
    message: /stepping operators can only be called inside st\.compile/,
  })
  t.throws(() => st.compile([{} as never], (a) => a), {
    instanceOf: st.GraphError,
    message: /st\.compile: input 0 must be a zod schema or st\.input<T>\(\)/,
  })
  t.throws(() => st.compile([st.input<number>()], () => [42] as never), {
    instanceOf: st.GraphError,
    message: /build must return a stream or an array of streams/,
  })
  t.throws(() => st.compile([st.input<number>()], (a) => st.map(42 as never, (n) => n) ?? a), {
    instanceOf: st.GraphError,
    message: /map: expected a stream, got number/,
  })
  // a failed compile leaves nothing behind: the next one works
  t.notThrows(() => st.compile([st.input<number>()], (a) => st.integrate(a)))
})

test('graph error: a cache integrated twice, or inside perGroup', (t) => {
  const cache = st.cache<number>()
  t.throws(
    () =>
      st.compile([st.input<number>()], (a) => {
        cache.integrate(a)
        return cache.integrate(a)
      }),
    { instanceOf: st.GraphError, message: /a cache can be integrated into only once per graph/ },
  )
  const c2 = st.cache<Row>()
  t.throws(
    () => st.compile([st.input<Row>()], (a) => st.flatten(st.perGroup(st.group(a, { by: byUser }), (g) => c2.integrate(g)))),
    { instanceOf: st.GraphError, message: /a cache must be integrated at the top level of the query/ },
  )
})

test('bad options: firstN n, join without indexes', (t) => {
  t.throws(() => st.compile([st.input<Row>()], (a) => st.firstN(a, { index: byUser, n: -1 })), {
    instanceOf: TypeError,
    message: /firstN: n must be a whole number ≥ 0, got -1/,
  })
  t.throws(() => st.compile([st.input<Row>()], (a) => st.firstN(a, { index: byUser, n: 1.5 })), { instanceOf: TypeError, message: /got 1\.5/ })
  t.throws(() => st.compile([st.input<Row>()], (a) => st.join(a, a, { onLeft: byUser } as never)), {
    instanceOf: TypeError,
    message: /join: onLeft and onRight indexes are required/,
  })
  t.throws(() => st.compile([st.input<Row>()], (a) => st.outerJoin(a, a, { onRight: byUser } as never)), {
    instanceOf: TypeError,
    message: /outerJoin: onLeft and onRight indexes are required/,
  })
})

test('inputs: zod schemas and st.input markers, with an input name', (t) => {
  const g = st.compile([st.input<number>({ name: 'numbers' }), st.input<string>()], (a, b) => [a, b])
  t.deepEqual(
    g.def.inputs.map((v) => v.path),
    ['numbers', 'input_1'],
  )
  t.is(g.inputCount, 2)
})
