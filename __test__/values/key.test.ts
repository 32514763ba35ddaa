/** Order-preserving keys: byte order of encodings equals the logical order of values. */
import test from 'ava'
import fc from 'fast-check'
import { compareCodePoints } from '../../src/values/order.js'
import { encodeCompositeKey, encodeKeyComponent } from '../../src/values/key.js'

type Key = null | boolean | number | bigint | string | Date | Key[]

const rank = (v: Key): number =>
  v === null ? 0 : v === false ? 1 : v === true ? 2 : typeof v === 'number' ? 3 : typeof v === 'bigint' ? 4 : typeof v === 'string' ? 5 : v instanceof Date ? 6 : 7

/** The logical order of docs/encoding.md, written without looking at bytes. */
function logical(a: Key, b: Key): number {
  const ra = rank(a)
  const rb = rank(b)
  if (ra !== rb) return ra - rb
  if (typeof a === 'number' && typeof b === 'number') return a === b ? 0 : a < b ? -1 : 1
  if (typeof a === 'bigint' && typeof b === 'bigint') return a === b ? 0 : a < b ? -1 : 1
  if (typeof a === 'string' && typeof b === 'string') return Math.sign(compareCodePoints(a, b))
  if (a instanceof Date && b instanceof Date) return Math.sign(a.getTime() - b.getTime())
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = logical(a[i]!, b[i]!)
      if (c !== 0) return c
    }
    return Math.sign(a.length - b.length)
  }
  return 0
}

/** Keys are binary strings (one char per byte), so string comparison is byte comparison. */
const cmpBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

const leaf: fc.Arbitrary<Key> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.bigInt({ min: -(1n << 200n), max: 1n << 200n }),
  fc.string({ unit: 'binary' }).filter((s) => s.isWellFormed()),
  fc.date({ noInvalidDate: true }),
)
const key: fc.Arbitrary<Key> = fc.oneof(leaf, fc.array(leaf, { maxLength: 3 }))

test('single keys: byte order = logical order, ascending and descending', (t) => {
  fc.assert(
    fc.property(key, key, fc.boolean(), (a, b, asc) => {
      const expected = logical(a, b) * (asc ? 1 : -1)
      t.is(cmpBytes(encodeKeyComponent(a, asc), encodeKeyComponent(b, asc)), Math.sign(expected) || 0)
    }),
    { numRuns: 2000 },
  )
})

test('composite keys: lexicographic by component, each in its own direction', (t) => {
  fc.assert(
    fc.property(fc.tuple(leaf, leaf), fc.tuple(leaf, leaf), fc.tuple(fc.boolean(), fc.boolean()), (a, b, asc) => {
      let expected = logical(a[0], b[0]) * (asc[0] ? 1 : -1)
      if (expected === 0) expected = logical(a[1], b[1]) * (asc[1] ? 1 : -1)
      t.is(cmpBytes(encodeCompositeKey(a, asc), encodeCompositeKey(b, asc)), Math.sign(expected) || 0)
    }),
    { numRuns: 2000 },
  )
})
