/** RowsByKey: rows under a list of keys, read by position; both layouts give each row's value, weight and text. */
import test from 'ava'
import fc from 'fast-check'
import { rowKey } from '../../src/values/encode.js'
import { EntryRows, FlatRows, listsOf, noRows, reweighted, withExtraRows } from '../../src/zset/rowsByKey.js'
import type { Entry } from '../../src/zset/zset.js'

const entry = (value: unknown, weight: number): Entry<unknown> => ({ key: rowKey(value), value, weight })
const row = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.string({ maxLength: 3 }), fc.record({ a: fc.integer({ min: 0, max: 3 }) }))
// A state holds no row of weight 0.
const weight = fc.integer({ min: -3, max: 3 }).filter((w) => w !== 0)
const lists = fc.array(fc.array(fc.tuple(row, weight).map(([v, w]) => entry(v, w)), { maxLength: 4 }), { maxLength: 5 })

/** The same lists laid out flat, with no texts: each text is made from its value. */
function flat(ls: Entry<unknown>[][]): FlatRows<unknown> {
  const starts = [0]
  for (const l of ls) starts.push(starts.at(-1)! + l.length)
  return new FlatRows(
    ls.flat().map((e) => e.value),
    ls.flat().map((e) => e.weight),
    starts,
  )
}

test('EntryRows and FlatRows list the same rows, key by key, with the texts the rows encode to', (t) => {
  fc.assert(
    fc.property(lists, (ls) => {
      t.deepEqual(listsOf(new EntryRows(ls)), ls)
      t.deepEqual(listsOf(flat(ls)), ls)
      const rows = flat(ls)
      t.is(rows.keyCount, ls.length)
      ls.forEach((l, k) => {
        t.is(rows.count(k), l.length)
        for (let j = 0; j < l.length; j++) t.is(rows.knownText(k, j), undefined)
      })
    }),
  )
})

test('noRows lists nothing under each key', (t) => {
  t.deepEqual(listsOf(noRows(3)), [[], [], []])
})

test('withExtraRows appends each key its extra rows after its own, and keeps the texts it was given', (t) => {
  fc.assert(
    fc.property(lists, fc.array(fc.option(fc.array(row.map((v) => entry(v, 1)), { maxLength: 3 }), { nil: undefined }), { maxLength: 6 }), (ls, extra) => {
      for (const rows of [new EntryRows(ls), flat(ls)]) {
        const out = withExtraRows(rows, extra)
        t.deepEqual(
          listsOf(out),
          ls.map((l, k) => [...l, ...(extra[k] ?? [])]),
        )
        // A text given with an extra row is kept as given (a reader's own texts are not made again).
        for (let k = 0; k < ls.length; k++) (extra[k] ?? []).forEach((e, j) => t.is(out.knownText(k, ls[k]!.length + j), e.key))
      }
    }),
  )
})

test('reweighted maps each weight, leaves rows made 0 out, and gives the same rows back when nothing changes', (t) => {
  const support = (w: number) => (w > 0 ? 1 : 0)
  fc.assert(
    fc.property(lists, (ls) => {
      for (const rows of [new EntryRows(ls), flat(ls)]) {
        t.deepEqual(
          listsOf(reweighted(rows, support)),
          ls.map((l) => l.filter((e) => e.weight > 0).map((e) => ({ ...e, weight: 1 }))),
        )
        t.is(reweighted(rows, (w) => w), rows)
      }
    }),
  )
})
