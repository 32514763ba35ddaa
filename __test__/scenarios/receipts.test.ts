/** The receipts example from API.md ("Queries"). */
import * as st from '../../src/index.js'
import { storeTest } from '../helpers/stores.js'
import { assertRows } from '../helpers/zsets.js'

type Product = { name: string; price: number }
type LineItem = { basketId: number; productName: string; qty: number }

function receiptsQuery() {
  const receipts = st.cache<string>()
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
    const lines = st.map(totals, (t) => `Basket id: ${t.right} total: $${t.left}`)
    receipts.integrate(lines)
    return [joined]
  })
  return { receipts, graph }
}

storeTest('receipts (API.md): join, group-reduce, map, cache', async (t, open) => {
  const { receipts, graph } = receiptsQuery()
  const store = await open(graph)
  const [products, lineItems] = st.actions(store, graph)
  const tv = { name: 'tv', price: 3 }
  const radio = { name: 'radio', price: 5 }

  const [changes] = await products.insert(tv)
  await assertRows(t, changes, [])
  await products.insert(radio)

  const l1 = { basketId: 1, productName: 'tv', qty: 2 }
  const l2 = { basketId: 1, productName: 'radio', qty: 1 }
  const l3 = { basketId: 2, productName: 'tv', qty: 1 }
  const [joined] = await lineItems.insert(l1, l2, l3)
  await assertRows(t, joined, [
    [st.pair(tv, l1), 1],
    [st.pair(radio, l2), 1],
    [st.pair(tv, l3), 1],
  ])
  await assertRows(t, receipts.zset(store), [
    ['Basket id: 1 total: $11', 1],
    ['Basket id: 2 total: $3', 1],
  ])

  // a price change reaches every basket holding the product
  await products.replace(tv, { name: 'tv', price: 4 })
  await assertRows(t, receipts.zset(store), [
    ['Basket id: 1 total: $13', 1],
    ['Basket id: 2 total: $4', 1],
  ])

  // basket 2 emptied: its receipt goes (SQL GROUP BY; stepping would keep "total: $0")
  await lineItems.remove(l3)
  await assertRows(t, receipts.zset(store), [['Basket id: 1 total: $13', 1]])

  // a line item for a product we do not sell joins nothing
  await lineItems.insert({ basketId: 3, productName: 'car', qty: 1 })
  await assertRows(t, receipts.zset(store), [['Basket id: 1 total: $13', 1]])
  await products.insert({ name: 'car', price: 100 })
  await assertRows(t, receipts.zset(store), [
    ['Basket id: 1 total: $13', 1],
    ['Basket id: 3 total: $100', 1],
  ])
})
