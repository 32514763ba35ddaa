/** KeyGroups: rows share a group exactly when their index keys encode the same (the encoding is the definition). */
import test from 'ava'
import fc from 'fast-check'
import * as st from '../../src/index.js'
import { KeyGroups } from '../../src/zset/keyGroups.js'

const part = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0, -0, 0.5, 1e21, Number.MAX_SAFE_INTEGER),
  fc.constantFrom('', 'a', 'b', 'ab', '\u00e9', 'a\u0000b'),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt({ min: -2n, max: 2n }),
  fc.constantFrom(new Date(0), new Date(0), new Date(1)),
)
const key = fc.oneof(part, fc.array(part, { minLength: 1, maxLength: 3 }))

for (const [name, index] of [
  ['a single-component index', st.index<unknown>((r) => r, { name: 'k' })],
  ['a descending index', st.index<unknown>((r) => r, { name: 'k', ascending: false })],
] as const) {
  test(`KeyGroups: same group exactly when the encodings are equal (${name})`, (t) => {
    fc.assert(
      fc.property(fc.array(key, { minLength: 1, maxLength: 30 }), (keys) => {
        const made: string[] = []
        const groups = new KeyGroups(index, (_k, encoded) => {
          made.push(encoded)
          return { encoded }
        })
        const seen = keys.map((k) => groups.of(k))
        for (let i = 0; i < keys.length; i++) {
          for (let j = 0; j < keys.length; j++) {
            const same = index.encodeKey(keys[i]) === index.encodeKey(keys[j])
            if ((seen[i] === seen[j]) !== same) return false
          }
          if (seen[i]!.encoded !== index.encodeKey(keys[i])) return false
        }
        // One group per distinct encoding, each made once.
        return new Set(made).size === made.length && made.length === new Set(keys.map((k) => index.encodeKey(k))).size
      }),
    )
    t.pass()
  })
}

test('KeyGroups: a key that cannot be encoded fails when first seen, whatever the grouping path', (t) => {
  const index = st.index<unknown>((r) => r, { name: 'k' })
  const groups = new KeyGroups(index, () => ({}))
  t.throws(() => groups.of(Number.NaN), { instanceOf: st.InvalidValueError })
  t.throws(() => groups.of([1, Number.NaN]), { instanceOf: st.InvalidValueError })
  t.throws(() => groups.of('\ud800'), { instanceOf: st.InvalidValueError })
})
