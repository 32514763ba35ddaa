/**
 * Bad input: each kind gives a clear error (its class, and a message naming
 * the problem and where it is) and leaves the store as it was — the caches
 * hold what they held, and the next iteration's output is what it would have
 * been had the bad call never been made (API.md: "An iteration is
 * all-or-nothing").
 */
import type { ExecutionContext } from 'ava'
import test from 'ava'
import { z } from 'zod'
import * as st from '../src/index.js'
import { type OpenStore, storeTest } from './helpers/stores.js'
import { assertRows } from './helpers/zsets.js'

type Row = { name: string; price: number; [k: string]: unknown }

const good1: Row = { name: 'tv', price: 3 }
const good2: Row = { name: 'radio', price: 5 }

/**
 * The standard query: every row cached, prices summed per name, the total
 * integrated. One good row goes in first; after the bad call, the cache must
 * still hold just it, and inserting a second good row must give exactly the
 * output a store that never saw the bad call gives.
 */
async function standard(
  t: ExecutionContext,
  open: OpenStore,
  bad: (ctx: { store: st.Store; graph: Graph; action: st.Action<Row, Out> }) => Promise<unknown>,
  expected: { instanceOf: new (...args: any[]) => Error; message: RegExp },
): Promise<void> {
  const make = () => {
    const rows = st.cache<Row>()
    const graph = st.compile([st.input<Row>()], (a) => {
      rows.integrate(a)
      return [st.groupReduceFlatten(a, { by: st.index<Row>((r) => r.name), zero: () => 0, pick: (r) => r.price }), st.integrate(st.count(a))]
    })
    return { rows, graph }
  }
  const { rows, graph } = make()
  const store = await open(graph)
  const [action] = st.actions(store, graph)
  await action.insert(good1)

  const error = await t.throwsAsync(Promise.resolve().then(() => bad({ store, graph, action })), expected)
  t.truthy(error?.message, 'the error has a message')

  await assertRows(t, rows.zset(store), [[good1, 1]], 'the cache is as it was')
  const after = await action.insert(good2)

  // a store that never saw the bad call
  const control = make()
  const controlStore = await open(control.graph)
  const [controlAction] = st.actions(controlStore, control.graph)
  await controlAction.insert(good1)
  const expectedAfter = await controlAction.insert(good2)
  await assertRows(t, after[0], [...expectedAfter[0].iter()], 'the next iteration is unaffected (group sums)')
  await assertRows(t, after[1], [...expectedAfter[1].iter()], 'the next iteration is unaffected (count)')
  await assertRows(t, after[1], [[2, 1]])
  await assertRows(t, rows.zset(store), [
    [good1, 1],
    [good2, 1],
  ])
}

type Graph = st.Graph<[Row], [st.Pair<number, string>, number]>
type Out = [st.Pair<number, string>, number]

storeTest('bad input: NaN', async (t, open) => {
  await standard(t, open, ({ action }) => action.insert({ name: 'x', price: Number.NaN }), {
    instanceOf: st.InvalidValueError,
    message: /input 0 \(input_0\), row 0: invalid value at \.price: NaN is not a value/,
  })
})

storeTest('bad input: a function', async (t, open) => {
  await standard(t, open, ({ action }) => action.insert({ name: 'x', price: 1, f: () => 1 }), {
    instanceOf: st.InvalidValueError,
    message: /invalid value at \.f: a function is not a value/,
  })
})

storeTest('bad input: a symbol', async (t, open) => {
  await standard(t, open, ({ action }) => action.insert({ name: 'x', price: 1, tag: Symbol('s') }), {
    instanceOf: st.InvalidValueError,
    message: /invalid value at \.tag: a symbol is not a value/,
  })
})

storeTest('bad input: a cycle', async (t, open) => {
  const cyclic: Row = { name: 'x', price: 1, child: { list: [] as unknown[] } }
  ;(cyclic.child as { list: unknown[] }).list.push(cyclic)
  await standard(t, open, ({ action }) => action.insert(cyclic), {
    instanceOf: st.InvalidValueError,
    message: /invalid value at \.child\.list\[0\]: a cycle/,
  })
})

storeTest('bad input: an invalid Date', async (t, open) => {
  await standard(t, open, ({ action }) => action.insert({ name: 'x', price: 1, at: new Date('not a date') }), {
    instanceOf: st.InvalidValueError,
    message: /invalid value at \.at: an invalid Date is not a value/,
  })
})

storeTest('bad input: a class instance', async (t, open) => {
  class Money {
    constructor(readonly pence: number) {}
  }
  await standard(t, open, ({ action }) => action.insert({ name: 'x', price: 1, money: new Money(3) }), {
    instanceOf: st.InvalidValueError,
    message: /invalid value at \.money: a Money instance is not a value/,
  })
})

storeTest('bad input: an undefined field', async (t, open) => {
  await standard(t, open, ({ action }) => action.insert({ name: 'x', price: 1, note: undefined }), {
    instanceOf: st.InvalidValueError,
    message: /invalid value at \.note: undefined is not a value/,
  })
})

storeTest('bad input: a bad value deep inside, in the second row', async (t, open) => {
  await standard(t, open, ({ action }) => action.insert({ name: 'ok', price: 1 }, { name: 'x', price: 1, tags: [1, [2, Number.NaN]] }), {
    instanceOf: st.InvalidValueError,
    message: /row 1: invalid value at \.tags\[1\]\[1\]: NaN/,
  })
})

storeTest('bad input: a non-integer weight', async (t, open) => {
  await standard(t, open, ({ action }) => action.apply([[{ name: 'x', price: 1 }, 1.5]]), {
    instanceOf: st.InvalidValueError,
    message: /weight must be a safe integer, got 1\.5/,
  })
  t.throws(() => st.zset([['a', 0.5]]), { instanceOf: st.InvalidValueError, message: /row 0: .*weight must be a safe integer, got 0\.5/ })
  t.throws(() => st.zset([['a', 1]]).mul(Number.NaN), { instanceOf: st.InvalidValueError, message: /weight must be a safe integer, got NaN/ })
})

storeTest('bad input: wrong arity to iteration', async (t, open) => {
  await standard(t, open, ({ store, graph }) => st.iteration(store, graph, [st.zset([[good2, 1]]), st.zset()] as never), {
    instanceOf: st.UsageError,
    message: /iteration: the graph has 1 input\(s\), got 2/,
  })
})

storeTest('bad input: a non-ZSet input to iteration', async (t, open) => {
  await standard(t, open, ({ store, graph }) => st.iteration(store, graph, [[good2] as never]), {
    instanceOf: st.UsageError,
    message: /iteration: input 0 \(input_0\) must be a ZSet/,
  })
})

storeTest('bad input: a store opened for another graph', async (t, open) => {
  await standard(
    t,
    open,
    async ({ store }) => {
      const other = st.compile([st.input<Row>()], (a) => a)
      return st.iteration(store, other, [st.zset([[good2, 1]])])
    },
    { instanceOf: st.UsageError, message: /the store was opened for a different graph/ },
  )
})

storeTest('bad input: a user function that throws mid-iteration (after inner state was written)', async (t, open) => {
  // The closure's fixed point writes its state during the step, the perGroup
  // has worked out its writes; the map after them throws on one edge. Nothing
  // of it may stay.
  const make = (throwOn: number | undefined) => {
    const closure = st.cache<st.Pair<number, number>>()
    const sums = st.cache<st.Pair<number, number>>()
    const graph = st.compile([st.input<st.Pair<number, number>>()], (edges) => {
      const all = closure.integrate(st.transitiveClosure(edges))
      sums.integrate(st.groupReduceFlatten(edges, { by: st.index<st.Pair<number, number>>((e) => e.left), zero: () => 0, pick: (e) => e.right }))
      return st.map(all, (e) => {
        if (e.right === throwOn) throw new Error(`boom on ${e.left} → ${e.right}`)
        return e.left * 100 + e.right
      })
    })
    return { graph, closure, sums }
  }
  const { graph, closure, sums } = make(9)
  const store = await open(graph)
  const [edges] = st.actions(store, graph)
  await edges.insert(st.pair(1, 2), st.pair(2, 3))

  await t.throwsAsync(edges.insert(st.pair(3, 9), st.pair(1, 4)), { instanceOf: Error, message: /^boom on [123] → 9$/ })

  await assertRows(t, closure.zset(store), [
    [st.pair(1, 2), 1],
    [st.pair(2, 3), 1],
    [st.pair(1, 3), 1],
  ])
  await assertRows(t, sums.zset(store), [
    [st.pair(2, 1), 1],
    [st.pair(3, 2), 1],
  ])
  const [next] = await edges.insert(st.pair(3, 4))
  const control = make(undefined)
  const controlStore = await open(control.graph)
  const [controlEdges] = st.actions(controlStore, control.graph)
  await controlEdges.insert(st.pair(1, 2), st.pair(2, 3))
  const [expected] = await controlEdges.insert(st.pair(3, 4))
  await assertRows(t, next, [...expected.iter()])
  // the map reads the integrated closure: every path so far
  await assertRows(t, next, [102, 203, 103, 304, 204, 104].map((n) => [n, 1] as const))
})

storeTest('bad input: an index on a missing field (key undefined at run time)', async (t, open) => {
  type User = { id: number; name: string }
  type Order = { userId?: number; item: string }
  const orders = st.cache<Order>()
  const graph = st.compile([st.input<User>(), st.input<Order>()], (users, o) => {
    orders.integrate(o)
    return st.join(users, o, { onLeft: st.index<User>((u) => u.id), onRight: st.index<Order>((x) => x.userId) })
  })
  const store = await open(graph)
  const [users, os] = st.actions(store, graph)
  await users.insert({ id: 1, name: 'ann' })
  await os.insert({ userId: 1, item: 'a' })
  await t.throwsAsync(os.insert({ item: 'no user' }), {
    instanceOf: st.InvalidValueError,
    message: /index "userId" gives no key for this row \(is the field missing\?\)/,
  })
  await assertRows(t, orders.zset(store), [[{ userId: 1, item: 'a' }, 1]])
  await assertRows(t, (await os.insert({ userId: 1, item: 'b' }))[0], [[st.pair({ id: 1, name: 'ann' }, { userId: 1, item: 'b' }), 1]])
})

storeTest('bad input: a zod validation failure', async (t, open) => {
  const Product = z.object({ name: z.string(), price: z.number().int() })
  const cached = st.cache<z.infer<typeof Product>>()
  const graph = st.compile([Product], (products) => cached.integrate(products))
  const store = await open(graph)
  const [products] = st.actions(store, graph)
  await products.insert({ name: 'tv', price: 3 })
  await t.throwsAsync(products.insert({ name: 'radio', price: 5 }, { name: 'car', price: 'lots' } as never), {
    instanceOf: st.UsageError,
    message: /input 0 \(input_0\), row 1 .*car.*: price: Invalid input: expected number, received string/,
  })
  await t.throwsAsync(products.insert({ name: 'half', price: 0.5 }), { instanceOf: st.UsageError, message: /price: .*int/i })
  await assertRows(t, cached.zset(store), [[{ name: 'tv', price: 3 }, 1]])
  await assertRows(t, (await products.insert({ name: 'radio', price: 5 }))[0], [
    [{ name: 'tv', price: 3 }, 1],
    [{ name: 'radio', price: 5 }, 1],
  ])
})

storeTest('bad input: makeScalar on a multi-row ZSet', async (t, open) => {
  const seen = st.cache<number>()
  const graph = st.compile([st.input<number>()], (a) => {
    seen.integrate(a)
    return st.makeSet(st.makeScalar(a, { zero: () => 0 }))
  })
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert(7))[0], [[7, 1]])
  await t.throwsAsync(a.insert(1, 2), { instanceOf: st.UsageError, message: /makeScalar \(makeScalar\): needs a ZSet of one row with weight 1, got 2 rows/ })
  await t.throwsAsync(a.apply([[3, 2]]), { instanceOf: st.UsageError, message: /makeScalar \(makeScalar\): needs a ZSet of one row with weight 1, got one row with weight 2/ })
  await assertRows(t, seen.zset(store), [[7, 1]])
  await assertRows(t, (await st.iteration(store, graph, [st.zset()]))[0], [[0, 1]])
})

storeTest('bad input: bigints and numbers mixed in a reduce', async (t, open) => {
  type Tx = { id: number; amount: number | bigint }
  const totals = st.cache<bigint>()
  const graph = st.compile([st.input<Tx>()], (a) => totals.integrate(st.reduce(a, { zero: () => 0n, pick: (x) => x.amount as bigint })))
  const store = await open(graph)
  const [txs] = st.actions(store, graph)
  await txs.insert({ id: 1, amount: 5n })
  await t.throwsAsync(txs.insert({ id: 2, amount: 3 }), { instanceOf: st.InvalidValueError, message: /cannot add a bigint and a number/ })
  await assertRows(t, totals.zset(store), [[5n, 1]])
  await txs.insert({ id: 3, amount: 2n })
  await assertRows(t, totals.zset(store), [[7n, 1]])
})

storeTest('bad input: a user function returning a value that is not a row', async (t, open) => {
  const cached = st.cache<number>()
  const graph = st.compile([st.input<number>()], (a) => cached.integrate(st.map(a, (n) => (n === 0 ? Number.NaN : 1 / n))))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await a.insert(2)
  await t.throwsAsync(a.insert(4, 0), { instanceOf: st.InvalidValueError, message: /the function of map returned a bad row.*NaN/ })
  await assertRows(t, cached.zset(store), [[0.5, 1]])
  await assertRows(t, (await a.insert(4))[0], [
    [0.5, 1],
    [0.25, 1],
  ])
})

storeTest('bad input: reading a cache with a store of another graph', async (t, open) => {
  const cached = st.cache<number>()
  const graph = st.compile([st.input<number>()], (a) => cached.integrate(a))
  const other = st.compile([st.input<number>()], (a) => a)
  const store = await open(graph)
  const otherStore = await open(other)
  await st.actions(store, graph)[0].insert(1)
  t.throws(() => cached.zset(otherStore), { instanceOf: st.GraphError, message: /this cache is not part of the graph the store was opened with/ })
  await assertRows(t, cached.zset(store), [[1, 1]])
})

storeTest('bad input: a mapMany function that does not return an iterable', async (t, open) => {
  const cached = st.cache<string>()
  const graph = st.compile([st.input<string>()], (a) => cached.integrate(st.mapMany(a, (s) => (s === 'bad' ? (42 as never) : [s, s.toUpperCase()]))))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await a.insert('x')
  await t.throwsAsync(a.insert('y', 'bad'), {
    instanceOf: TypeError,
    message: /the function of mapMany must return an iterable of rows .*got number/,
  })
  await assertRows(t, cached.zset(store), [
    ['x', 1],
    ['X', 1],
  ])
  await assertRows(t, (await a.insert('y'))[0], [
    ['x', 1],
    ['X', 1],
    ['y', 1],
    ['Y', 1],
  ])
})

test('bad input: st.time with a non-integer time', (t) => {
  t.throws(() => st.time({ inputTime: 1.5 }), { instanceOf: TypeError, message: /time: inputTime must be an integer, got 1\.5/ })
})

storeTest('a bad value made inside the query names the vertex where it was found, and the store goes on', async (t, open) => {
  const bad = (r: Row): Row => ({ name: r.name, price: r.price === 13 ? Number.NaN : r.price })
  const graph = st.compile([st.input<Row>(), st.input<Row>()], (a, b) => [
    st.integrate(st.map(a, bad)), // the map feeds the integral's add: found there
    st.integrate(st.join(st.map(b, bad), a, { onLeft: st.index<Row>((r) => r.name), onRight: st.index<Row>((r) => r.name) })),
    st.integrate(st.groupReduceFlatten(b, { by: st.index<Row>((r) => r.name), zero: () => 0, pick: (r) => (r.price === 14 ? Number.NaN : r.price) })),
  ])
  const store = await open(graph)
  const [a, b] = st.actions(store, graph)
  await a.insert({ name: 'tv', price: 1 })
  await t.throwsAsync(a.insert({ name: 'x', price: 13 }), {
    instanceOf: st.InvalidValueError,
    message: /^in integrate\/add, the function of map returned a bad row: invalid value at \.price: NaN/,
  })
  await t.throwsAsync(b.insert({ name: 'tv', price: 13 }), {
    instanceOf: st.InvalidValueError,
    message: /^in map#2, the function of map#2 returned a bad row: invalid value at \.price: NaN/, // the join takes the map's rows as they come
  })
  await t.throwsAsync(b.insert({ name: 'tv', price: 14 }), {
    instanceOf: st.InvalidValueError,
    message: /^in group_reduce\/per_group\/reduce\/add, the sum of group_reduce\/per_group\/reduce\/aggregateToSet#2: invalid value at \(root\): NaN/,
  })
  // The outputs are integrals: none of the failed iterations left anything in them.
  const [rows, pairs, sums] = await b.insert({ name: 'tv', price: 2 })
  t.deepEqual([...rows.iter()], [[{ name: 'tv', price: 1 }, 1]])
  t.deepEqual([...pairs.iter()], [[st.pair({ name: 'tv', price: 2 }, { name: 'tv', price: 1 }), 1]])
  t.deepEqual([...sums.iter()], [[st.pair(2, 'tv'), 1]]) // (sum, group)
})
