/** ZSet.unconsolidated: an input batch whose equal rows are summed only when someone needs the ZSet whole. */
import test from 'ava'
import { ZSet } from '../../src/zset/zset.js'

const a = { id: 'a' }
const b = { id: 'b' }
const c = { id: 'c' }

test('eachEntry gives the rows as given (zero weights dropped); entries sums them', (t) => {
  const z = ZSet.unconsolidated<{ id: string }>([[a, 1], [b, 1], [{ id: 'a' }, 2], [b, -1], [c, 0]])
  const given = [...z.eachEntry()]
  t.deepEqual(given.map((e) => [e.value.id, e.weight]), [['a', 1], ['b', 1], ['a', 2], ['b', -1]])
  t.is(z.entryCount, 4)
  t.is(z.size, 1)
  t.deepEqual([...z.iter()], [[a, 3]])
  t.is(z.entryCount, 1)
  // Summing made new entries: the ones handed out before keep their weights.
  t.deepEqual(given.map((e) => e.weight), [1, 1, 2, -1])
})

test('an unconsolidated ZSet hashes and compares like the consolidated one', (t) => {
  const rows: [{ id: string }, number][] = [[a, 2], [b, 1], [a, -1], [b, -1]]
  const summed = ZSet.from(rows)
  t.is(ZSet.unconsolidated(rows).hash, summed.hash)
  t.true(ZSet.unconsolidated(rows).equals(summed))
})

test('adding an unconsolidated ZSet into another sums its repeats', (t) => {
  const into = ZSet.from([[a, 1]])
  into.addInPlace(ZSet.unconsolidated([[a, 1], [b, 1], [b, -1]]))
  t.deepEqual([...into.iter()], [[a, 2]])
})

test('a bad row or weight is refused when the batch is built, naming the row', (t) => {
  t.throws(() => ZSet.unconsolidated<unknown>([[a, 1], [{ x: Number.NaN }, 1]]), { message: /row 1/ })
  t.throws(() => ZSet.unconsolidated([[a, 1.5]]), { message: /safe integer/ })
})
