/**
 * Random inserts, removes and replaces through `st.actions`: after every step
 * the integral of each output equals the query evaluated from scratch on the
 * integrated inputs by the naive evaluator in helpers/oracle.ts.
 */
import fc from 'fast-check'
import * as st from '../src/index.js'
import * as o from './helpers/oracle.js'
import { checkSteps, checkWeightedSteps } from './helpers/steps.js'
import { storeTest } from './helpers/stores.js'

type KV = { k: number; v: number }
const kv = fc.record({ k: fc.integer({ min: 0, max: 3 }), v: fc.integer({ min: -2, max: 3 }) })
const byK = (r: KV) => r.k

storeTest('property: join', async (t, open) => {
  const graph = st.compile([st.input<KV>(), st.input<KV>()], (l, r) =>
    st.join(l, r, { onLeft: st.index<KV>((x) => x.k), onRight: st.index<KV>((x) => x.k) }),
  )
  await checkSteps(t, open, { graph, rows: [kv, kv], oracle: ([l, r]) => [o.join(l!, r!, byK, byK)] })
})

storeTest('property: outer join (SQL LEFT JOIN, right keys may repeat)', async (t, open) => {
  const graph = st.compile([st.input<KV>(), st.input<KV>()], (l, r) =>
    st.outerJoin(l, r, { onLeft: st.index<KV>((x) => x.k), onRight: st.index<KV>((x) => x.k) }),
  )
  await checkSteps(t, open, { graph, rows: [kv, kv], oracle: ([l, r]) => [o.leftOuterJoin(l!, r!, byK, byK)] })
})

storeTest('property: distinct (of rows and of a projection)', async (t, open) => {
  const graph = st.compile([st.input<KV>()], (a) => [st.distinct(a), st.distinct(st.map(a, (r) => r.k))])
  await checkSteps(t, open, { graph, rows: [kv], oracle: ([a]) => [o.distinct(a!), o.distinct(o.map(a!, byK))] })
})

storeTest('property: group-reduce (groupReduceFlatten sum, perGroup count; emptied groups retracted)', async (t, open) => {
  const graph = st.compile([st.input<KV>()], (a) => [
    st.groupReduceFlatten(a, { by: st.index<KV>((r) => r.k), zero: () => 0, pick: (r) => r.v }),
    st.flatten(st.perGroup(st.group(a, { by: st.index<KV>((r) => r.v) }), (g) => st.count(g))),
  ])
  await checkSteps(t, open, {
    graph,
    rows: [kv],
    oracle: ([a]) => [
      o.groupSum(a!, byK, (r: KV) => r.v),
      o.groupSum(a!, (r: KV) => r.v, () => 1),
    ],
  })
})

storeTest('property: firstN (composite key with a descending part; identity index with repeats)', async (t, open) => {
  const idx = st.index<KV>((r) => [r.k, r.v], { ascending: [true, false] })
  const ints = st.index.identity<number>()
  const graph = st.compile([st.input<KV>()], (a) => [st.firstN(a, { index: idx, n: 3 }), st.firstN(st.map(a, (r) => r.k), { index: ints, n: 4 })])
  await checkSteps(t, open, {
    graph,
    rows: [kv],
    oracle: ([a]) => [
      o.firstN(a!, 3, (x: KV, y: KV) => x.k - y.k || y.v - x.v),
      o.firstN(o.map(a!, byK), 4, (x: number, y: number) => x - y),
    ],
  })
})

storeTest('property: transitive closure of acyclic edges (i → j with i < j)', async (t, open) => {
  const edge = fc
    .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }))
    .filter(([a, b]) => a !== b)
    .map(([a, b]) => st.pair(Math.min(a, b), Math.max(a, b)))
  const graph = st.compile([st.input<st.Pair<number, number>>()], (edges) => st.transitiveClosure(edges))
  await checkSteps(t, open, { graph, rows: [edge], oracle: ([e]) => [o.transitiveClosure(e!)], numRuns: 15 })
})

storeTest('property: the closure joined by path end (read from the closure\'s own state) and by path start', async (t, open) => {
  // One input feeds both sides of each join, so a step changes the paths and what they join with at once.
  type Label = { node: number; edgeTo: number }
  const edge = fc
    .tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }))
    .filter(([a, b]) => a !== b)
    .map(([a, b]) => st.pair(Math.min(a, b), Math.max(a, b)))
  const labelOf = (e: st.Pair<number, number>): Label => ({ node: e.left, edgeTo: e.right })
  const byEnd = st.index<st.Pair<number, number>>((p) => p.right)
  const byStart = st.index<st.Pair<number, number>>((p) => p.left)
  const byNode = st.index<Label>((l) => l.node)
  const graph = st.compile([st.input<st.Pair<number, number>>()], (edges) => {
    const paths = st.transitiveClosure(edges)
    const labels = st.map(edges, labelOf)
    return [st.join(paths, labels, { onLeft: byEnd, onRight: byNode }), st.join(paths, labels, { onLeft: byStart, onRight: byNode })]
  })
  // The paths found so far, inside the closure and for the join on the path's end, are read from distinct's
  // integral as its support (graph/sharedState.ts), which is then indexed by the end too; the other join keeps its own.
  t.deepEqual(
    graph.def.delays.filter((d) => d.params.stateOf !== undefined).map((d) => [d.path, d.params.stateOf!.path, d.params.stateMap]),
    [
      ['transitive_closure/integrate_indexed/delay', 'transitive_closure/distinct/integrate_delay/delay', 'support'],
      ['join/integrate_indexed/delay', 'transitive_closure/distinct/integrate_delay/delay', 'support'],
    ],
  )
  t.deepEqual(graph.def.delays.find((d) => d.path === 'transitive_closure/distinct/integrate_delay/delay')!.params.indexes!.map((i) => i.id), [byEnd.id])
  await checkSteps(t, open, {
    graph,
    rows: [edge],
    oracle: ([e]) => {
      const paths = o.transitiveClosure(e!)
      const labels = o.map(e!, labelOf)
      return [
        o.join(paths, labels, (p: st.Pair<number, number>) => p.right, (x: Label) => x.node),
        o.join(paths, labels, (p: st.Pair<number, number>) => p.left, (x: Label) => x.node),
      ]
    },
    numRuns: 15,
  })
})

storeTest('property: receipts (join → group-reduce → map)', async (t, open) => {
  type Product = { name: string; price: number }
  type LineItem = { basketId: number; productName: string; qty: number }
  const product = fc.record({ name: fc.constantFrom('tv', 'radio', 'car'), price: fc.integer({ min: 0, max: 9 }) })
  const lineItem = fc.record({
    basketId: fc.integer({ min: 1, max: 3 }),
    productName: fc.constantFrom('tv', 'radio', 'car'),
    qty: fc.integer({ min: 1, max: 3 }),
  })
  const graph = st.compile([st.input<Product>(), st.input<LineItem>()], (products, lineItems) => {
    const joined = st.join(products, lineItems, {
      onLeft: st.index<Product>((p) => p.name),
      onRight: st.index<LineItem>((l) => l.productName),
    })
    const totals = st.groupReduceFlatten(joined, {
      by: st.index<st.Pair<Product, LineItem>>((p) => p.right.basketId),
      zero: () => 0,
      pick: (p) => p.left.price * p.right.qty,
    })
    return [joined, st.map(totals, (t) => `Basket id: ${t.right} total: $${t.left}`)]
  })
  await checkSteps(t, open, {
    graph,
    rows: [product, lineItem],
    oracle: ([p, l]) => {
      const joined = o.join(p!, l!, (x: Product) => x.name, (x: LineItem) => x.productName)
      const totals = o.groupSum(
        joined,
        (x: st.Pair<Product, LineItem>) => x.right.basketId,
        (x: st.Pair<Product, LineItem>) => x.left.price * x.right.qty,
      )
      return [joined, o.map(totals, (x: st.Pair<number, number>) => `Basket id: ${x.right} total: $${x.left}`)]
    },
  })
})

storeTest('property: outer join after a group-reduce (ZSet values on the right)', async (t, open) => {
  type Tag = { post: number; tag: string }
  const post = fc.integer({ min: 0, max: 3 })
  const tag = fc.record({ post: fc.integer({ min: 0, max: 3 }), tag: fc.constantFrom('a', 'b', 'c') })
  const graph = st.compile([st.input<number>(), st.input<Tag>()], (posts, tags) => {
    const perPost = st.groupReduceFlatten(tags, { by: st.index<Tag>((x) => x.post), zero: () => st.zset<string>(), pick: (x) => st.zset([[x.tag, 1]]) })
    return st.outerJoin(posts, perPost, { onLeft: st.index.identity<number>(), onRight: st.index<st.Pair<st.ZSet<string>, number>>((p) => p.right) })
  })
  await checkSteps(t, open, {
    graph,
    rows: [post, tag],
    oracle: ([posts, tags]) => {
      const perPost: o.Bag = new Map()
      for (const { key, rows } of o.groupBy(tags!, (x: Tag) => x.post).values()) {
        o.addTo(perPost, { left: o.map(rows, (x: Tag) => x.tag), right: key }, 1)
      }
      return [o.leftOuterJoin(posts!, perPost, (n: number) => n, (p: { right: number }) => p.right)]
    },
    numRuns: 20,
  })
})

storeTest('property: linear and bilinear operators under arbitrary weights (negative included)', async (t, open) => {
  const graph = st.compile([st.input<KV>(), st.input<KV>()], (a, b) => [
    st.map(a, (r) => r.k * 10 + r.v),
    st.filter(a, (r) => r.v > 0),
    st.mapMany(a, (r) => [r.k, r.v, r.v]),
    st.add(a, st.neg(b)),
    st.join(a, b, { onLeft: st.index<KV>((x) => x.k), onRight: st.index<KV>((x) => x.v) }),
    st.flatten(st.perGroup(st.group(b, { by: st.index<KV>((x) => x.k) }), (g) => st.map(g, (x) => x.v))),
    st.distinct(a),
    st.join(a, a, { onLeft: st.index<KV>((x) => x.k), onRight: st.index<KV>((x) => x.k) }),
  ])
  await checkWeightedSteps(t, open, {
    graph,
    rows: [kv, kv],
    oracle: ([a, b]) => [
      o.map(a!, (r: KV) => r.k * 10 + r.v),
      o.filter(a!, (r: KV) => r.v > 0),
      o.flatMap(a!, (r: KV) => [r.k, r.v, r.v]),
      o.sub(a!, b!),
      o.join(a!, b!, byK, (x: KV) => x.v),
      o.groupMapFlatten(b!, byK, (x: KV) => x.v),
      o.distinct(a!),
      o.join(a!, a!, byK, byK),
    ],
  })
})

storeTest('property: perGroup with stateful operators inside (top 2 per group, distinct per group, join per group)', async (t, open) => {
  type Tagged = { g: number; k: number; v: number }
  const row = fc.record({ g: fc.integer({ min: 0, max: 2 }), k: fc.integer({ min: 0, max: 2 }), v: fc.integer({ min: 0, max: 3 }) })
  const byV = st.index<Tagged>((x) => [x.v, x.k])
  const graph = st.compile([st.input<Tagged>()], (a) => {
    const grouped = st.group(a, { by: st.index<Tagged>((x) => x.g) })
    return [
      st.flatten(st.perGroup(grouped, (rows) => st.firstN(rows, { index: byV, n: 2 }))),
      st.flatten(st.perGroup(grouped, (rows) => st.distinct(st.map(rows, (x) => x.v)))),
      st.flatten(
        st.perGroup(grouped, (rows) =>
          st.map(st.join(rows, rows, { onLeft: st.index<Tagged>((x) => x.k), onRight: st.index<Tagged>((x) => x.v) }), (p) => [p.left.v, p.right.k]),
        ),
      ),
    ]
  })
  const byG = (x: Tagged) => x.g
  const perGroup = (a: o.Bag, f: (rows: o.Bag) => o.Bag): o.Bag => {
    const out: o.Bag = new Map()
    for (const { key, rows } of o.groupBy(a, byG).values()) {
      for (const e of f(rows).values()) o.addTo(out, { left: e.value, right: key }, e.weight)
    }
    return out
  }
  await checkSteps(t, open, {
    graph,
    rows: [row],
    oracle: ([a]) => [
      perGroup(a!, (rows) => o.firstN(rows, 2, (x: Tagged, y: Tagged) => x.v - y.v || x.k - y.k || o.keyOf(x).localeCompare(o.keyOf(y)))),
      perGroup(a!, (rows) => o.distinct(o.map(rows, (x: Tagged) => x.v))),
      perGroup(a!, (rows) => o.map(o.join(rows, rows, (x: Tagged) => x.k, (x: Tagged) => x.v), (p: st.Pair<Tagged, Tagged>) => [p.left.v, p.right.k])),
    ],
  })
})
