/** Pictures of circuits: DOT text with operator kinds, state and sub-circuits as clusters; SVG through Graphviz-in-WASM. */
import test from 'ava'
import * as st from '../src/index.js'

type Edge = st.Pair<number, number>
type Row = { user: number; amount: number }

const graph = st.compile([st.input<Row>({ name: 'payments' }), st.input<Edge>({ name: 'edges' })], (payments, edges) => {
  const totals = st.groupReduceFlatten(payments, {
    by: st.index<Row>((r) => r.user),
    zero: () => 0,
    pick: (r) => r.amount,
  })
  const reachable = st.transitiveClosure(edges)
  return [totals, reachable]
})

test('toDot draws every vertex with its kind, state as delays, and sub-circuits as clusters', (t) => {
  const dot = st.toDot(graph)
  t.true(dot.startsWith('digraph stepping {'))
  const nodes = dot.split('\n').filter((l) => /^\s+v\d+ \[label=/.test(l))
  t.is(nodes.length, graph.def.allVertices.length)
  t.is((dot.match(/z⁻¹ delay/g) ?? []).length, graph.def.delays.length)
  t.regex(dot, /subgraph cluster_\d+ \{\n\s+label="per group: group_reduce\/per_group\/perGroup"/)
  t.regex(dot, /label="recursion: transitive_closure\/fixedPoint"/)
  t.regex(dot, /input 0\\npayments|payments/)
  t.regex(dot, /by user/)
  t.regex(dot, /⋈ join\\non right = left/)
  t.regex(dot, /label="t−1"/)
})

test('renderGraph writes an SVG with the vertex labels', async (t) => {
  const svg = await st.renderGraph(graph)
  t.true(svg.includes('<svg'))
  t.true(svg.includes('per group: group_reduce/per_group/perGroup'))
  t.true(svg.includes('H haitch'))
  t.true(svg.includes('Σ aggregate'))
})
