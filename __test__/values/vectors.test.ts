/** The shared byte-level vectors (testdata/vectors, also read by `cargo test`). */
import test from 'ava'
import { readFileSync } from 'node:fs'
import { canonical, decodeCanonical } from '../../src/values/encode.js'
import { identityHash } from '../../src/values/hash.js'
import { encodeCompositeKey, encodeKeyComponent } from '../../src/values/key.js'
import { zset } from '../../src/zset/zset.js'

const read = (name: string) => JSON.parse(readFileSync(new URL(`../../testdata/vectors/${name}`, import.meta.url), 'utf8'))
const values = read('values.json') as { canonical: string; hash: string }[]
const multiset = read('multiset.json') as { rows: [string, number][]; hash: string }[]
const keys = read('keys.json') as {
  encodings: { key: string; composite: boolean; ascending: boolean[]; hex: string }[]
  orders: { composite: boolean; ascending: boolean[]; sorted: string[] }[]
}

const encodeKey = (text: string, composite: boolean, ascending: boolean[]): string => {
  const v = decodeCanonical(text)
  return composite ? encodeCompositeKey(v as unknown[], ascending) : encodeKeyComponent(v, ascending[0])
}

test('canonical texts round trip and hash as the vectors say', (t) => {
  t.true(values.length >= 40)
  for (const v of values) {
    const value = decodeCanonical(v.canonical)
    t.is(canonical(value), v.canonical)
    t.is(identityHash(value), v.hash, v.canonical)
  }
})

test('multiset hashes match the vectors', (t) => {
  for (const m of multiset) {
    const z = zset(m.rows.map(([text, w]) => [decodeCanonical(text), w] as const))
    t.is(z.hash, m.hash, JSON.stringify(m.rows))
  }
})

test('key encodings match the vectors byte for byte', (t) => {
  for (const e of keys.encodings) {
    t.is(Buffer.from(encodeKey(e.key, e.composite, e.ascending), 'latin1').toString('hex'), e.hex, `${e.key} ${e.ascending}`)
  }
})

test('sorting encoded keys gives the logical order of the vectors', (t) => {
  for (const o of keys.orders) {
    const encoded = o.sorted.map((k) => ({ k, e: encodeKey(k, o.composite, o.ascending) }))
    const sorted = [...encoded].sort((a, b) => (a.e < b.e ? -1 : a.e > b.e ? 1 : 0)).map((x) => x.k)
    t.deepEqual(sorted, o.sorted)
  }
})
