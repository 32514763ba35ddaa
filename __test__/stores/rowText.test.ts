/**
 * The stored form of a row (SQL stores): compactText and expandText are inverse, with and without
 * the first key left out, with and without a field-name dictionary (src/stores/names.ts).
 */
import test from 'ava'
import fc from 'fast-check'
import { NameDictionary, UnknownNameError } from '../../src/stores/names.js'
import { compactText, expandText, keyTextOf } from '../../src/stores/sql.js'
import { canonical } from '../../src/values/encode.js'
import { encodeKeyComponent } from '../../src/values/key.js'
import { tricky, value } from '../helpers/storedText.js'

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

/** Object keys drawn from `tricky`: a dictionary holding some of them, as a store would. */
const keyNames = fc.uniqueArray(tricky, { maxLength: 12 })

test('with a name dictionary: the stored form is read back exactly, is no longer than without, and notes only the names it lacks', (t) => {
  fc.assert(
    fc.property(value, keyNames, fc.oneof(tricky, fc.integer()), (v, known, id) => {
      const names = new NameDictionary()
      names.extend(0, known.filter((n) => n.length >= 2)) // as a store's would: one-character names stay literal
      const row = { id, v }
      const text = canonical(row)
      const key = Buffer.from(encodeKeyComponent(id), 'latin1')
      const stored = compactText(text, keyTextOf(key), names)
      t.is(expandText(stored, key, names), text)
      t.true(stored.length <= compactText(text, keyTextOf(key)).length)
      // Names met that the dictionary lacks are noted (and only those).
      for (const name of names.unknown) t.false(names.has(name))
    }),
    { numRuns: 20000 },
  )
})

test('with a name dictionary: known names become two characters, unknown ones are noted and stay, a full dictionary notes none', (t) => {
  const names = new NameDictionary(2)
  names.extend(0, ['identifier', 'attrs'])
  const text = canonical({ identifier: 'A', attrs: [{ key: 'x', value: 'str' }], colour: 'red' })
  const stored = compactText(text, undefined, names)
  t.false(stored.includes('identifier'))
  t.false(stored.includes('attrs'))
  t.true(stored.includes('colour'))
  t.is(expandText(stored, undefined, names), text)
  t.deepEqual(names.unknown, new Set(), 'full: nothing to add')

  const open = new NameDictionary()
  open.extend(0, ['identifier'])
  compactText(text, undefined, open)
  t.deepEqual([...open.unknown].sort(), ['attrs', 'colour', 'value'])
  // A name id nobody has read yet.
  const other = new NameDictionary()
  other.extend(0, ['identifier', 'attrs'])
  t.throws(() => expandText(compactText(text, undefined, other), undefined, open), { instanceOf: UnknownNameError })
})

test('a name dictionary forgets the names of a transaction that rolls back, and keeps those of one that commits', (t) => {
  const names = new NameDictionary()
  names.extend(0, ['a'])
  names.addUncommitted(['b', 'c'])
  names.rollback()
  t.is(names.size, 1)
  t.false(names.has('b'))
  names.addUncommitted(['dd'])
  names.commit()
  names.rollback()
  t.deepEqual(['a', 'b', 'dd'].map((n) => names.has(n)), [true, false, true])
  // The next name takes the id `b` had.
  t.is(compactText('{"dd":1}', undefined, names), '\x14!1}')
  // A rolled-back name leaves the other names of its first character found, and no trace of itself.
  names.addUncommitted(['de'])
  names.rollback()
  names.extend(2, ['df'])
  t.is(compactText('{"dd":1,"de":2,"df":3}', undefined, names), '\x14!1\x08de\n2\x13"3}')
})

test('a name dictionary takes names read twice (two reads of the table racing) once, and refuses a table that disagrees', (t) => {
  const names = new NameDictionary()
  t.is(names.extend(0, ['a', 'b']), 2)
  // A second read that began before the first one's names arrived.
  t.is(names.extend(0, ['a', 'b', 'c']), 1)
  t.is(names.extend(1, ['b', 'c']), 0)
  t.is(names.size, 3)
  t.throws(() => names.extend(2, ['x']), { message: /field name #2/ })
  t.throws(() => names.extend(4, ['e']), { message: /ends at #3/ })
  // Names of an open transaction are not mixed with names read from the table.
  names.addUncommitted(['d'])
  t.is(names.extend(3, ['d']), 0)
  t.throws(() => names.extend(3, ['d', 'e']), { message: /added its own/ })
})
