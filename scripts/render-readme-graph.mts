// Draws docs/receipts-graph.svg, the picture in the README: npx tsx scripts/render-readme-graph.mts
import * as st from '../src/index.js'
type Product = { name: string; price: number }
type LineItem = { basketId: number; productName: string; qty: number }
const receipts = st.cache<string>()
const graph = st.compile([st.input<Product>({ name: 'products' }), st.input<LineItem>({ name: 'lineItems' })], (products, lineItems) => {
  const joined = st.join(products, lineItems, { onLeft: st.index<Product>((p) => p.name), onRight: st.index<LineItem>((l) => l.productName) })
  const totals = st.groupReduceFlatten(joined, { by: st.index<st.Pair<Product, LineItem>>((p) => p.right.basketId), zero: () => 0, pick: function price(p) { return p.left.price * p.right.qty } })
  const lines = st.map(totals, function receiptLine(t) { return `Basket id: ${t.right} total: $${t.left}` })
  receipts.integrate(lines)
  return [totals]
})
await st.renderGraph(graph, new URL('../docs/receipts-graph.svg', import.meta.url).pathname)
