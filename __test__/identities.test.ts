/**
 * The DBSP paper's identities (Budiu et al., VLDB 2023), on the reference's
 * fixed cases (stepping tests/run/test_basic.py) and on random streams of
 * Z-sets (any integer weights, negative included).
 */
import fc from 'fast-check'
import * as st from '../src/index.js'
import * as o from './helpers/oracle.js'
import { storeTest } from './helpers/stores.js'
import { assertRows, toBag } from './helpers/zsets.js'

const ints = () => st.input<number>()
type KV = { k: number; v: number }

/** A random stream of Z-sets of small ints with weights in [-3, 3]. */
const intStream = fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: -3, max: 3 })), { maxLength: 5 }), {
  minLength: 1,
  maxLength: 8,
})
const kvRow = fc.record({ k: fc.integer({ min: 0, max: 2 }), v: fc.integer({ min: 0, max: 2 }) })
const kvStream = fc.array(fc.array(fc.tuple(kvRow, fc.integer({ min: -2, max: 2 })), { maxLength: 4 }), { minLength: 1, maxLength: 6 })

const RUNS = { numRuns: 25 }

/** Feed a stream of changes; returns each step's output as a bag. */
async function run1(store: st.Store, graph: st.Graph<[number], [number]>, stream: [number, number][][]): Promise<o.Bag[]> {
  const outs: o.Bag[] = []
  for (const step of stream) {
    const [out] = await st.iteration(store, graph, [st.zset(step)])
    outs.push(await toBag(out))
  }
  return outs
}

function expectStreams(actual: o.Bag[], expected: o.Bag[]): void {
  actual.forEach((a, i) => {
    if (!o.bagsEqual(a, expected[i]!)) throw new Error(`step ${i}:\nactual:\n${o.show(a)}\nexpected:\n${o.show(expected[i]!)}`)
  })
}

/** I(s)[t] for every t. */
function integrals(stream: o.Bag[]): o.Bag[] {
  let sum: o.Bag = new Map()
  return stream.map((b) => (sum = o.add(sum, b)))
}

// ---- Definition 3.27: integrate ----

const integrateGraph = () => st.compile([ints()], (a) => st.integrate(a))

storeTest('Definition 3.27: integrate, the reference case', async (t, open) => {
  const graph = integrateGraph()
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert(8))[0], [[8, 1]])
  await assertRows(t, (await a.insert(6))[0], [[8, 1], [6, 1]])
  await assertRows(t, (await a.insert(4))[0], [[8, 1], [6, 1], [4, 1]])
  await assertRows(t, (await a.insert(5))[0], [[8, 1], [6, 1], [4, 1], [5, 1]])
  await assertRows(t, (await a.insert(4))[0], [[8, 1], [6, 1], [4, 2], [5, 1]])
})

storeTest('Definition 3.27: integrate on random streams is the running sum', async (t, open) => {
  const graph = integrateGraph()
  await fc.assert(
    fc.asyncProperty(intStream, async (stream) => {
      const actual = await run1(await open(graph), graph, stream)
      expectStreams(actual, integrals(stream.map((s) => o.bag(s))))
    }),
    RUNS,
  )
  t.pass()
})

// ---- Definition 3.25: differentiate ----

const differentiateGraph = () => st.compile([ints()], (a) => st.differentiate(a))

storeTest('Definition 3.25: differentiate, the reference case', async (t, open) => {
  const graph = differentiateGraph()
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert(3))[0], [[3, 1]])
  await assertRows(t, (await a.insert(4))[0], [[3, -1], [4, 1]])
  await assertRows(t, (await a.insert(5))[0], [[4, -1], [5, 1]])
})

storeTest('Definition 3.25: differentiate on random streams is s[t] − s[t−1]', async (t, open) => {
  const graph = differentiateGraph()
  await fc.assert(
    fc.asyncProperty(intStream, async (stream) => {
      const actual = await run1(await open(graph), graph, stream)
      const bags = stream.map((s) => o.bag(s))
      expectStreams(
        actual,
        bags.map((b, i) => o.sub(b, i === 0 ? new Map() : bags[i - 1]!)),
      )
    }),
    RUNS,
  )
  t.pass()
})

// ---- integrate_delay: z⁻¹ ∘ I ----

storeTest('integrateDelay is the running sum up to the step before (reference test_integrate_and_delay)', async (t, open) => {
  const graph = st.compile([ints()], (a) => st.integrateDelay(a))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert(8))[0], [])
  await assertRows(t, (await a.insert(6))[0], [[8, 1]])
  await assertRows(t, (await a.insert(6))[0], [[8, 1], [6, 1]])

  await fc.assert(
    fc.asyncProperty(intStream, async (stream) => {
      const actual = await run1(await open(graph), graph, stream)
      const sums = integrals(stream.map((s) => o.bag(s)))
      expectStreams(
        actual,
        sums.map((_, i) => (i === 0 ? new Map() : sums[i - 1]!)),
      )
    }),
    RUNS,
  )
})

// ---- Theorem 3.30: D ∘ I = I ∘ D = id ----

const diGraph = () => st.compile([ints()], (a) => st.differentiate(st.integrate(a)))
const idGraph = () => st.compile([ints()], (a) => st.integrate(st.differentiate(a)))

for (const [name, make] of [
  ['D(I(s))', diGraph],
  ['I(D(s))', idGraph],
] as const) {
  storeTest(`Theorem 3.30: ${name} = s, the reference case`, async (t, open) => {
    const graph = make()
    const store = await open(graph)
    const [a] = st.actions(store, graph)
    await assertRows(t, (await a.insert(3))[0], [[3, 1]])
    await assertRows(t, (await a.insert(4))[0], [[4, 1]])
    await assertRows(t, (await a.insert(5))[0], [[5, 1]])
    await assertRows(t, (await a.remove(4))[0], [[4, -1]])
  })

  storeTest(`Theorem 3.30: ${name} = s on random streams`, async (t, open) => {
    const graph = make()
    await fc.assert(
      fc.asyncProperty(intStream, async (stream) => {
        const actual = await run1(await open(graph), graph, stream)
        expectStreams(
          actual,
          stream.map((s) => o.bag(s)),
        )
      }),
      RUNS,
    )
    t.pass()
  })
}

// ---- Theorem 5.5: the incremental join ----

const joinGraph = () =>
  st.compile([st.input<KV>(), st.input<KV>()], (l, r) =>
    st.join(l, r, { onLeft: st.index<KV>((x) => x.k), onRight: st.index<KV>((x) => x.k) }),
  )

storeTest('Theorem 5.5: the incremental join integrates to the join of the integrated inputs', async (t, open) => {
  const graph = joinGraph()
  const byK = (x: KV) => x.k
  await fc.assert(
    fc.asyncProperty(kvStream, kvStream, async (ls, rs) => {
      const store = await open(graph)
      const n = Math.max(ls.length, rs.length)
      let il: o.Bag = new Map()
      let ir: o.Bag = new Map()
      let out: o.Bag = new Map()
      let previousJoin: o.Bag = new Map()
      for (let i = 0; i < n; i++) {
        const dl = ls[i] ?? []
        const dr = rs[i] ?? []
        const [delta] = await st.iteration(store, graph, [st.zset(dl), st.zset(dr)])
        const d = await toBag(delta)
        il = o.add(il, o.bag(dl))
        ir = o.add(ir, o.bag(dr))
        out = o.add(out, d)
        const fullJoin = o.join(il, ir, byK, byK)
        // (a ⋈ b)^Δ = D(I(a) ⋈ I(b)), step by step ...
        if (!o.bagsEqual(d, o.sub(fullJoin, previousJoin))) throw new Error(`step ${i}: delta\n${o.show(d)}`)
        // ... so its integral is the join of the integrals.
        if (!o.bagsEqual(out, fullJoin)) throw new Error(`step ${i}: integral\n${o.show(out)}`)
        previousJoin = fullJoin
      }
    }),
    RUNS,
  )
  t.pass()
})

// ---- Proposition 6.3: distinct ----

const distinctGraph = () => st.compile([ints()], (a) => st.distinct(a))

storeTest('Proposition 6.3: distinct, the reference case', async (t, open) => {
  const graph = distinctGraph()
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert(3, 3))[0], [[3, 1]])
  await assertRows(t, (await a.insert(3))[0], [])
  await assertRows(t, (await a.insert(4))[0], [[4, 1]])
  await assertRows(t, (await a.remove(3))[0], [])
  await assertRows(t, (await a.remove(3))[0], [])
  await assertRows(t, (await a.remove(3))[0], [[3, -1]])
})

storeTest('Proposition 6.3: distinct then integrate, the reference case', async (t, open) => {
  const graph = st.compile([ints()], (a) => st.integrate(st.distinct(a)))
  const store = await open(graph)
  const [a] = st.actions(store, graph)
  await assertRows(t, (await a.insert(3))[0], [[3, 1]])
  await assertRows(t, (await a.insert(3))[0], [[3, 1]])
  await assertRows(t, (await a.insert(4))[0], [[3, 1], [4, 1]])
  await assertRows(t, (await a.remove(3))[0], [[3, 1], [4, 1]])
  await assertRows(t, (await a.remove(3))[0], [[4, 1]])
})

storeTest('Proposition 6.3: distinct^Δ = D ∘ distinct ∘ I on random streams (negative weights too)', async (t, open) => {
  const graph = distinctGraph()
  await fc.assert(
    fc.asyncProperty(intStream, async (stream) => {
      const actual = await run1(await open(graph), graph, stream)
      const sums = integrals(stream.map((s) => o.bag(s)))
      expectStreams(
        actual,
        sums.map((s, i) => o.sub(o.distinct(s), i === 0 ? new Map() : o.distinct(sums[i - 1]!))),
      )
    }),
    RUNS,
  )
  t.pass()
})
