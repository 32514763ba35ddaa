/** The stored form of a row (SQL stores): compactText and expandText are inverse, with and without the first key left out. */
import test from 'ava'
import fc from 'fast-check'
import { compactText, expandText, keyTextOf } from '../../src/stores/sql.js'
import { canonical } from '../../src/values/encode.js'
import { encodeKeyComponent } from '../../src/values/key.js'
import { pair } from '../../src/values/value.js'

// Strings made of the tokens' own characters, so that token-like runs appear inside string values too.
const tricky = fc.string({ unit: fc.constantFrom('{', '}', '[', ']', ',', '"', ':', '$', 'z', 'e', '0', 'left', 'right', 'key', '\\', 'é', '\u0001') })
const leaf = fc.oneof(tricky, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null))
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(tricky, tie('v'), { maxKeys: 4 }),
    fc.tuple(tie('v'), tie('v')).map(([l, r]) => pair(l, r)),
  ),
})).v

test('expandText(compactText(text)) is the canonical text, and the stored form is no longer', (t) => {
  fc.assert(
    fc.property(value, (v) => {
      const text = canonical(v)
      const stored = compactText(text, undefined)
      t.true(stored.length <= text.length)
      t.is(expandText(stored, undefined), text)
    }),
    { numRuns: 3000 },
  )
})

test('a row indexed on one of its fields is stored without that field and read back whole', (t) => {
  fc.assert(
    fc.property(fc.oneof(tricky, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })), value, (id, rest) => {
      const row = { id, rest }
      const text = canonical(row)
      const key = Buffer.from(encodeKeyComponent(id), 'latin1')
      const stored = compactText(text, keyTextOf(key))
      t.is(expandText(stored, key), text)
    }),
    { numRuns: 3000 },
  )
})
