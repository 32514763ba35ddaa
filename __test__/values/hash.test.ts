/** MurmurHash3_x86_128 against an independent implementation, and the multiset hash's algebra. */
import test from 'ava'
import fc from 'fast-check'
import { createRequire } from 'node:module'
import { murmur3x86_128 } from '../../src/values/hash.js'
import { zset, ZSet } from '../../src/zset/zset.js'

const require = createRequire(import.meta.url)
const reference = require('murmurhash3js-revisited') as { x86: { hash128(bytes: Uint8Array): string } }
const hex = (words: number[]) => words.map((w) => w.toString(16).padStart(8, '0')).join('')

test('murmur3 x86_128 equals the reference implementation on any bytes', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      t.is(hex(murmur3x86_128(bytes)), reference.x86.hash128(bytes))
    }),
    { numRuns: 500 },
  )
})

const changes = fc.array(fc.tuple(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.string({ maxLength: 3 })), fc.integer({ min: -3, max: 3 })), {
  maxLength: 30,
})

test('the multiset hash is kept up to date from the changes and equals a fresh computation', (t) => {
  fc.assert(
    fc.property(fc.array(changes, { maxLength: 6 }), (batches) => {
      const live = new ZSet<string | number>()
      void live.hash // materialise, so later changes update it incrementally
      for (const batch of batches) live.addInPlace(zset(batch))
      const fresh = zset([...live.iter()])
      t.is(live.hash, fresh.hash)
    }),
    { numRuns: 200 },
  )
})

test('hash(a + b) = hash(a) + hash(b); z + (-z) hashes to zero', (t) => {
  fc.assert(
    fc.property(changes, changes, (a, b) => {
      const za = zset(a)
      const zb = zset(b)
      const sum = (BigInt('0x' + za.hash) + BigInt('0x' + zb.hash)) & ((1n << 128n) - 1n)
      t.is(za.add(zb).hash, sum.toString(16).padStart(32, '0'))
      t.is(za.add(za.neg()).hash, '0'.repeat(32))
    }),
    { numRuns: 200 },
  )
})
