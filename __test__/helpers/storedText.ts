/**
 * Values for testing the SQL stores' stored form (sql.ts compactText/expandText, and the
 * addon's batch compaction): strings made of the stored form's own tokens, escapes and
 * text beyond ASCII, so that token-like runs turn up inside strings and field names too.
 */
import fc from 'fast-check'
import { pair } from '../../src/values/value.js'

export const tricky = fc.string({
  unit: fc.constantFrom('{', '}', '[', ']', ',', '"', ':', '$', 'z', 'e', '0', 'left', 'right', 'key', 'sum', 'count', '\\', 'é', '😀', '\u0001', 'name', '":', 'ab'),
})

const leaf = fc.oneof(tricky, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null))

/** Values (arrays, objects, pairs, leaves) whose objects have field names drawn from `names`. */
export const valueNamed = (names: fc.Arbitrary<string>): fc.Arbitrary<unknown> =>
  fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.array(tie('v'), { maxLength: 4 }),
      fc.dictionary(names, tie('v'), { maxKeys: 4 }),
      fc.tuple(tie('v'), tie('v')).map(([l, r]) => pair(l, r)),
    ),
  })).v

/** Values whose field names are tricky strings too. */
export const value = valueNamed(tricky)
