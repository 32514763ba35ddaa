/**
 * Types infer through every operator. These are checked by `npm run typecheck`
 * (tsc): a wrong inference fails the build; the runtime test only runs the graph.
 */
import test from 'ava'
import { z } from 'zod'
import * as st from '../src/index.js'

type Equals<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false
function expectType<T>(_value: T): void {}
function assertEquals<A, B>(..._: Equals<A, B> extends true ? [] : ['types differ']): void {}

const Product = z.object({ name: z.string(), price: z.number() })
type LineItem = { basketId: number; productName: string; qty: number }

const graph = st.compile([Product, st.input<LineItem>()], (products, lineItems) => {
  assertEquals<typeof products, st.Stream<{ name: string; price: number }>>()
  const joined = st.join(products, lineItems, {
    onLeft: st.index<z.infer<typeof Product>>((p) => p.name),
    onRight: st.index<LineItem>((l) => l.productName),
  })
  assertEquals<typeof joined, st.Stream<st.Pair<{ name: string; price: number }, LineItem>>>()
  const totals = st.groupReduceFlatten(joined, {
    by: st.index<st.Pair<z.infer<typeof Product>, LineItem>, number>((p) => p.right.basketId),
    zero: () => 0,
    pick: (p) => p.left.price * p.right.qty,
  })
  assertEquals<typeof totals, st.Stream<st.Pair<number, number>>>()
  const lines = st.map(totals, (t) => `basket ${t.right}: ${t.left}`)
  assertEquals<typeof lines, st.Stream<string>>()
  const outer = st.outerJoin(products, lineItems, { onLeft: st.index<z.infer<typeof Product>>((p) => p.name), onRight: st.index<LineItem>((l) => l.productName) })
  assertEquals<typeof outer, st.Stream<st.Pair<{ name: string; price: number }, LineItem | st.Empty>>>()
  const counted = st.count(lineItems)
  assertEquals<typeof counted, st.Stream<number>>()
  const grouped = st.group(lineItems, { by: st.index<LineItem, number>((l) => l.basketId) })
  const perGroup = st.perGroup(grouped, (g) => st.map(g, (l) => l.qty))
  assertEquals<typeof perGroup, st.Grouped<number, number>>()
  const flat = st.flatten(perGroup)
  assertEquals<typeof flat, st.Stream<st.Pair<number, number>>>()
  // Never called: only the type checker looks at this line.
  // @ts-expect-error a stream of strings cannot be joined on a LineItem index
  const _wrongJoin = () => st.join(lines, lineItems, { onLeft: st.index<LineItem>((l) => l.productName), onRight: st.index<LineItem>((l) => l.productName) })
  void _wrongJoin
  return [totals, flat]
})

test('inferred input and output types flow to actions and iteration', async (t) => {
  assertEquals<typeof graph, st.Graph<[{ name: string; price: number }, LineItem], [st.Pair<number, number>, st.Pair<number, number>]>>()
  const store = st.memoryStore(graph)
  const [products, lineItems] = st.actions(store, graph)
  // @ts-expect-error price must be a number
  expectType<Parameters<typeof products.insert>[0]>({ name: 'tv', price: '3' })
  await products.insert({ name: 'tv', price: 3 })
  const [totals] = await lineItems.insert({ basketId: 7, productName: 'tv', qty: 2 })
  assertEquals<typeof totals, st.ZSet<st.Pair<number, number>>>()
  t.deepEqual([...totals.iter()], [[{ left: 6, right: 7 }, 1]])
})
