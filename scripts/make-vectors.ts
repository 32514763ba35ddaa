/**
 * Writes testdata/vectors/*.json, the byte-level vectors both backends are held to.
 *
 * The expected canonical texts, key bytes and key orders below are written by
 * hand from docs/encoding.md; the hashes come from murmurhash3js-revisited, an
 * implementation independent of ours. Run: npx tsx scripts/make-vectors.ts
 */
import { writeFileSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const murmur = require('murmurhash3js-revisited') as { x86: { hash128(bytes: Uint8Array, seed?: number): string } }
const hash = (text: string): string => murmur.x86.hash128(Buffer.from(text, 'utf8'))

/** Canonical texts, by hand. Each is what the encoder must write for the value it denotes. */
const canonicalTexts = [
  'null',
  'true',
  'false',
  '0',
  '-1',
  '1.5',
  '9007199254740991',
  '-9007199254740991',
  '1e+21',
  '1e-7',
  '5e-324',
  '1.7976931348623157e+308',
  '0.1',
  '123456789.125',
  '{"$f":"Infinity"}',
  '{"$f":"-Infinity"}',
  '{"$n":"0"}',
  '{"$n":"-123456789012345678901234567890"}',
  '""',
  '"a"',
  '"héllo wörld"',
  '"tab\\there \\"quoted\\" back\\\\slash"',
  '"\\u0000\\u001f"',
  '"\\ud800 lone"',
  '"😀 emoji"',
  '"\uffff"',
  '"2023-01-02"',
  '{"$d":0}',
  '{"$d":1672531200000}',
  '{"$d":-1}',
  '[]',
  '[1,"a",null,[true]]',
  '{}',
  '{"a":1,"b":2}',
  '{"$$dollar":1,"a":{"$$d":2}}',
  '{"left":1,"right":"x"}',
  '{"left":{"name":"tv","price":3},"right":{"$e":0}}',
  '{"$s":[]}',
  '{"$s":["a",1,2]}',
  '{"$e":0}',
  '{"$z":[]}',
  '{"$z":[["cat",2],["dog",-1]]}',
  '{"$z":[[{"a":1},1]]}',
  '{"A":1,"a":2,"é":3,"\uffff":5,"😀":4}',
  '{"meter_id":"00000001-b3fb-47ef-b22f-a45ba5b7b645","timestamp":{"$d":1672538400000},"value":24}',
]

const values = canonicalTexts.map((canonical) => ({ canonical, hash: hash(canonical) }))

const mod128 = (1n << 128n) - 1n
const multisetHash = (rows: [string, number][]): string =>
  rows
    .reduce((h, [text, w]) => (h + BigInt(w) * BigInt('0x' + hash(text))) & mod128, 0n)
    .toString(16)
    .padStart(32, '0')

const multisetRows: [string, number][][] = [
  [],
  [['"a"', 1]],
  [['"a"', 1], ['"a"', -1]],
  [['"a"', 3], ['{"x":1}', -2], ['null', 1]],
  [['1', 1000000], ['2', -1000000]],
  [['{"left":1,"right":"x"}', 1], ['[1,"a",null,[true]]', 7]],
]
const multiset = multisetRows.map((rows) => ({ rows, hash: multisetHash(rows) }))

/** Key bytes worked out by hand from docs/encoding.md §4. */
const encodings = [
  { key: 'null', composite: false, ascending: [true], hex: '01' },
  { key: 'false', composite: false, ascending: [true], hex: '02' },
  { key: 'true', composite: false, ascending: [true], hex: '03' },
  { key: '0', composite: false, ascending: [true], hex: '108000000000000000' },
  { key: '1', composite: false, ascending: [true], hex: '10bff0000000000000' },
  { key: '-1', composite: false, ascending: [true], hex: '10400fffffffffffff' },
  { key: '-2.5', composite: false, ascending: [true], hex: '103ffbffffffffffff' },
  { key: '{"$f":"Infinity"}', composite: false, ascending: [true], hex: '10fff0000000000000' },
  { key: '{"$n":"0"}', composite: false, ascending: [true], hex: '1480' },
  { key: '{"$n":"256"}', composite: false, ascending: [true], hex: '14820100' },
  { key: '{"$n":"-1"}', composite: false, ascending: [true], hex: '147efe' },
  { key: '""', composite: false, ascending: [true], hex: '200001' },
  { key: '"ab"', composite: false, ascending: [true], hex: '2061620001' },
  { key: '"a\\u0000b"', composite: false, ascending: [true], hex: '206100ff620001' },
  { key: '"é"', composite: false, ascending: [true], hex: '20c3a90001' },
  { key: '{"$d":0}', composite: false, ascending: [true], hex: '308000000000000000' },
  { key: '[1,"a"]', composite: false, ascending: [true], hex: '4010bff00000000000002061000100' },
  { key: '{"x":1}', composite: false, ascending: [true], hex: '507b2278223a317d0001' },
  { key: '"ab"', composite: false, ascending: [false], hex: 'df9e9dfffe' },
  { key: '1', composite: false, ascending: [false], hex: 'ef400fffffffffffff' },
  { key: '[1,"a"]', composite: true, ascending: [true, true], hex: '10bff000000000000020610001' },
  { key: '[1,"a"]', composite: true, ascending: [true, false], hex: '10bff0000000000000df9efffe' },
  { key: '[null,{"$d":86400000}]', composite: true, ascending: [false, true], hex: 'fe30c194997000000000' },
]

/** Keys in logical order (docs/encoding.md: null < false < true < numbers < bigints < strings < dates < tuples < other). */
const orders = [
  {
    composite: false,
    ascending: [true],
    sorted: [
      'null', 'false', 'true',
      '{"$f":"-Infinity"}', '-1e+300', '-2.5', '-1', '-5e-324', '0', '5e-324', '1e-7', '1', '2', '10', '1e+300', '{"$f":"Infinity"}',
      '{"$n":"-65536"}', '{"$n":"-256"}', '{"$n":"-255"}', '{"$n":"-1"}', '{"$n":"0"}', '{"$n":"1"}', '{"$n":"255"}', '{"$n":"256"}', '{"$n":"123456789012345678901234567890"}',
      '""', '"\\u0000"', '"\\u0000\\u0000"', '"\\u0001"', '"A"', '"Z"', '"a"', '"a\\u0000"', '"a\\u0000b"', '"aa"', '"ab"', '"b"', '"é"', '"\uffff"', '"😀"',
      '{"$d":-86400000}', '{"$d":0}', '{"$d":1672531200000}',
      '[]', '[null]', '[1]', '[1,"a"]', '[1,"b"]', '[2]', '["a"]',
      '{"$e":0}', '{"a":1}', '{"a":2}', '{"b":0}',
    ],
  },
  {
    composite: false,
    ascending: [false],
    sorted: ['{"$d":0}', '"b"', '"ab"', '"aa"', '"a"', '""', '10', '2', '-1', 'true', 'false', 'null'],
  },
  {
    composite: true,
    ascending: [true, false],
    sorted: ['[null,"z"]', '[null,"a"]', '[1,"b"]', '[1,"a"]', '[1,""]', '[2,"zz"]', '["x","b"]', '["x","a"]'],
  },
  {
    composite: true,
    ascending: [false, true],
    sorted: ['[{"$d":1000},1]', '[{"$d":1000},2]', '[{"$d":0},-1]', '[{"$d":0},0]', '["b",null]', '["a",5]', '[1,0]'],
  },
]

mkdirSync('testdata/vectors', { recursive: true })
const write = (name: string, data: unknown) => writeFileSync(`testdata/vectors/${name}`, JSON.stringify(data, null, 1) + '\n')
write('values.json', values)
write('multiset.json', multiset)
write('keys.json', { encodings, orders })
console.log(`wrote ${values.length} values, ${multiset.length} multisets, ${encodings.length} key encodings, ${orders.length} orders`)
