/**
 * The stored form made in Rust for a batch (src/native/storedForm.ts) against the TS
 * compaction it replaces (sql.ts compactText): the same texts exactly, for random rows,
 * first keys and name dictionaries; and no texts at all when a row holds a name the
 * dictionary lacks and could still take, which the TS compaction then notes.
 */
import test, { type ExecutionContext } from 'ava'
import fc from 'fast-check'
import { loadNative } from '../../src/native/binding.js'
import { NameDictionary } from '../../src/stores/names.js'
import { compactBatch } from '../../src/native/storedForm.js'
import { TOKENS, compactText, compactTexts, expandText, keyTextOf } from '../../src/stores/sql.js'
import { canonical } from '../../src/values/encode.js'
import { encodeKeyComponent } from '../../src/values/key.js'
import { tricky, value, valueNamed } from '../helpers/storedText.js'

const native = loadNative()

/** A row's canonical text and its first key (a field of it), or a row without one. */
interface Row {
  text: string
  keyText: string | undefined
  key: Buffer | undefined
}
const rowOf = (value: fc.Arbitrary<unknown>): fc.Arbitrary<Row> => fc.oneof(
  fc.tuple(fc.oneof(tricky, fc.integer()), value).map(([id, rest]) => {
    const key = Buffer.from(encodeKeyComponent(id), 'latin1')
    return { text: canonical({ id, rest }), keyText: keyTextOf(key), key }
  }),
  value.map((v) => ({ text: canonical(v), keyText: undefined, key: undefined })),
)
const row = rowOf(value)
/** Dictionaries as stores have them: names of two characters or more, possibly full. */
const dictionary = fc.record({ known: fc.uniqueArray(tricky, { maxLength: 12 }), spare: fc.integer({ min: 0, max: 3 }), none: fc.boolean() })

test('the addon loads (it is built by npm install)', (t) => {
  t.truthy(native?.NativeCompactor, 'native/stepping.<triple>.node with NativeCompactor: run npm run build:native')
})

/**
 * The addon's texts for `rows` are compactText's exactly; or there are none, and then TS noted
 * a name to add (any `"x":` may read as a name, even one made of data between two strings).
 */
function sameAsTs(t: ExecutionContext, rows: readonly Row[], names: NameDictionary | undefined): 'compared' | 'refused' {
  const canonicals = rows.map((r) => r.text)
  const keyTexts = rows.map((r) => r.keyText)
  const fromAddon = compactBatch(native!, TOKENS, canonicals, keyTexts, names)
  names?.unknown.clear()
  const expected = canonicals.map((c, i) => compactText(c, keyTexts[i], names))
  if (names !== undefined && names.unknown.size > 0) {
    t.is(fromAddon, undefined)
    t.deepEqual(compactTexts(canonicals, keyTexts, names, native), expected, 'compactTexts falls back to TS')
    return 'refused'
  }
  t.deepEqual(fromAddon, expected)
  for (let i = 0; i < rows.length; i++) t.is(expandText(fromAddon![i]!, rows[i]!.key, names), canonicals[i])
  return 'compared'
}

test('a batch compacted by the addon is what compactText makes of each row, or nothing when a name must be noted first', (t) => {
  const seen = { compared: 0, refused: 0 }
  fc.assert(
    fc.property(fc.array(row, { minLength: 16, maxLength: 40 }), dictionary, (rows, d) => {
      const known = d.known.filter((n) => n.length >= 2)
      const names = d.none ? undefined : new NameDictionary(known.length + d.spare)
      names?.extend(0, known)
      seen[sameAsTs(t, rows, names)]++
    }),
    { numRuns: 400 },
  )
  // Both outcomes were exercised: texts from Rust, and batches left to TS to note names.
  t.true(seen.compared > 50 && seen.refused > 20, JSON.stringify(seen))
})

test('with field names from a dictionary that could take more, the addon compacts as TS does', (t) => {
  // Few rows, so that most batches note nothing; strings holding `":` (escaped) must not read as names.
  const fields = ['ab', 'left', 'name', 'x', 'count', 'sum', 'é😀', 'key', 'rest']
  const seen = { compared: 0, refused: 0 }
  fc.assert(
    fc.property(fc.array(rowOf(valueNamed(fc.constantFrom(...fields))), { minLength: 1, maxLength: 4 }), (rows) => {
      const names = new NameDictionary(fields.length + 1)
      names.extend(0, ['id', ...fields.filter((f) => f.length >= 2)])
      seen[sameAsTs(t, rows, names)]++
    }),
    { numRuns: 2000 },
  )
  t.true(seen.compared > 1000, JSON.stringify(seen))
})

test('the addon picks up names added, and forgets names rolled back; ids past ASCII are spelled as TS spells them', (t) => {
  const names = new NameDictionary()
  const many = Array.from({ length: 300 }, (_, i) => `field_${i}`)
  names.extend(0, many)
  const rows = Array.from({ length: 20 }, (_, i) => canonical({ field_299: i, field_0: 'x', other: [i] }))
  const keyTexts = rows.map(() => undefined)
  // `other` is not in the dictionary yet: nothing from the addon, and TS notes it.
  t.is(compactBatch(native!, TOKENS, rows, keyTexts, names), undefined)
  t.deepEqual(compactTexts(rows, keyTexts, names, native), rows.map((r) => compactText(r, undefined, names)))
  t.deepEqual([...names.unknown], ['other'])
  names.addUncommitted(['other'])
  const withOther = compactBatch(native!, TOKENS, rows, keyTexts, names)!
  t.false(withOther[0]!.includes('other'))
  t.true(withOther[0]!.includes(String.fromCharCode(0x20 + 299)), 'field_299 by its id, a character past ASCII')
  t.deepEqual(withOther, rows.map((r) => compactText(r, undefined, names)))
  names.rollback()
  names.unknown.clear()
  t.is(compactBatch(native!, TOKENS, rows, keyTexts, names), undefined)
  t.deepEqual(compactTexts(rows, keyTexts, names, native), rows.map((r) => compactText(r, undefined, names)))
  t.deepEqual([...names.unknown], ['other'], 'forgotten again, so noted again')
})

test('a dictionary name no text can end with `":` (a quote in it, a backslash at its end) is never matched, by TS or by the addon', (t) => {
  // `ab\\` is how a key `ab\` is spelled between quotes; its closing quote follows a backslash.
  const names = new NameDictionary(10)
  names.extend(0, ['ab\\\\', 'x"y', 'value'])
  const rows = Array.from({ length: 16 }, (_, i) => canonical({ 'ab\\': i, 'x"y': i, value: i }))
  const ts = rows.map((r) => compactText(r, undefined, names))
  t.true(ts[0]!.includes('ab\\\\'), 'the key stays literal')
  t.false(ts[0]!.includes('value'), 'a plain name is compacted')
  t.deepEqual(compactBatch(native!, TOKENS, rows, rows.map(() => undefined), names), ts)
  t.deepEqual(names.unknown, new Set())
})
