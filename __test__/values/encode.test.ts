/** Canonical encoding: structural equality, normalisation, and the errors for what is not a value. */
import test from 'ava'
import fc from 'fast-check'
import { canonical, decimalText, decodeCanonical } from '../../src/values/encode.js'
import { InvalidValueError } from '../../src/values/errors.js'
import { EMPTY, pair } from '../../src/values/value.js'
import { zset } from '../../src/zset/zset.js'

test('object key order does not matter; -0 is 0; a pair is a {left, right} object', (t) => {
  t.is(canonical({ a: 1, b: 2 }), canonical({ b: 2, a: 1 }))
  t.is(canonical(-0), canonical(0))
  t.is(canonical([-0]), '[0]')
  t.is(canonical(pair(1, 'x')), canonical({ right: 'x', left: 1 }))
  t.is(canonical(new Set([2, 1])), canonical(new Set([1, 2])))
  t.not(canonical(1), canonical('1'))
  t.not(canonical(1), canonical(1n))
  t.not(canonical([1, 2]), canonical(new Set([1, 2])))
  t.is(canonical({ $d: 1 }), '{"$$d":1}')
  t.not(canonical({ $d: 1 }), canonical(new Date(1)))
})

test('ZSets as values are equal when their contents are', (t) => {
  const a = zset([['x', 1], ['y', 2]])
  const b = zset([['y', 2], ['x', 1], ['z', 0]])
  t.is(canonical(a), canonical(b))
  t.is(canonical({ z: a }), '{"z":{"$z":[["x",1],["y",2]]}}')
})

test('decode inverts encode for arbitrary values', (t) => {
  const leaf = fc.oneof(
    fc.string(),
    fc.double({ noNaN: true }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.bigInt(),
    fc.date({ noInvalidDate: true }),
    fc.constant(EMPTY),
  )
  const value = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string(), tie('v'), { maxKeys: 4 })),
  })).v
  fc.assert(
    fc.property(value, (v) => {
      const text = canonical(v)
      t.is(canonical(decodeCanonical(text)), text)
    }),
    { numRuns: 300 },
  )
})

const bad: [string, unknown, RegExp][] = [
  ['NaN', { a: [1, NaN] }, /\.a\[1\]: NaN/],
  ['a function', { f: () => 1 }, /\.f: a function/],
  ['a symbol', [Symbol('s')], /\[0\]: a symbol/],
  ['undefined', { a: undefined }, /\.a: undefined/],
  ['an invalid Date', { when: new Date('nope') }, /\.when: an invalid Date/],
  ['a class instance', { m: new Map() }, /\.m: a Map instance/],
]

for (const [what, value, message] of bad) {
  test(`${what} is rejected with the path`, (t) => {
    const e = t.throws(() => canonical(value), { instanceOf: InvalidValueError })
    t.regex(e!.message, message)
  })
}

test('a cycle is rejected with the path where it closes', (t) => {
  const row: Record<string, unknown> = { a: 1 }
  row.children = [{ parent: row }]
  const e = t.throws(() => canonical(row), { instanceOf: InvalidValueError })
  t.regex(e!.message, /\.children\[0\]\.parent: a cycle/)
})

test('numbers are written as String writes them (the fast path for short decimals included)', (t) => {
  const shortDecimal = fc.tuple(fc.integer({ min: -(10 ** 12), max: 10 ** 12 }), fc.constantFrom(1, 10, 100, 1000, 10000)).map(([k, d]) => k / d)
  fc.assert(
    fc.property(fc.oneof(shortDecimal, fc.double({ noNaN: true, noDefaultInfinity: true })), (n) => {
      t.is(decimalText(n), String(n))
      t.is(canonical(n), String(n))
      t.is(canonical({ n }), `{"n":${String(n)}}`)
    }),
    { numRuns: 20_000 },
  )
  for (const n of [0.001, -0.001, 0.1, 0.07, 1e-7, 123456.789, -5.5, 999999999.999, 1e9 + 0.5, -0.25, 5e-324]) t.is(decimalText(n), String(n))
})

test('key lists that a separator would confuse get writers of their own', (t) => {
  t.is(canonical({ '': 1 }), '{"":1}')
  t.is(canonical({}), '{}')
  t.is(canonical({ 'a\u0000': 1, b: 2 }), '{"a\\u0000":1,"b":2}')
  t.is(canonical({ a: 1, '\u0000b': 2 }), '{"\\u0000b":2,"a":1}')
  t.is(canonical({}), '{}')
})

test('objects of many shapes (past the compiled writers) are written the same way', (t) => {
  // Keys as data: 1,500 key lists, more than the encoder compiles writers for; then the first ones again.
  const expected = (i: number) => `{"a":"x","b":[1,{"$d":0}],"k${i}":${i / 4},"z\\"":null}`
  const make = (i: number) => ({ ['k' + i]: i / 4, b: [1, new Date(0)], a: 'x', 'z"': null })
  for (const i of [...Array.from({ length: 1500 }, (_, i) => i), 0, 1, 1499]) t.is(canonical(make(i)), expected(i))
})
