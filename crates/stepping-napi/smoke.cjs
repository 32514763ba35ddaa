'use strict'
// Smoke test of the native binding: loads the built addon with `require` and
// exercises every export, then checks the standalone functions against the
// shared vectors in testdata/vectors/ when they are present.
// Run from the repository root after building (see crates/README.md):
//   node crates/stepping-napi/smoke.cjs
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '../..')
const nativeDir = path.join(root, 'native')
const addonFile = fs.existsSync(nativeDir) && fs.readdirSync(nativeDir).find((f) => /^stepping\..+\.node$/.test(f))
assert.ok(addonFile, `no stepping.*.node in ${nativeDir}: build the addon first`)
const native = require(path.join(nativeDir, addonFile))

let checks = 0
function check(name, fn) {
  fn()
  checks++
  console.log(`ok ${checks} - ${name}`)
}

/** Byte strings in the batch layout: one buffer plus offsets (n + 1 entries). */
function join(parts) {
  const offsets = new Uint32Array(parts.length + 1)
  parts.forEach((part, i) => (offsets[i + 1] = offsets[i] + part.length))
  return { bytes: Buffer.concat(parts), offsets }
}

const batch = (texts) => join(texts.map((t) => Buffer.from(t, 'utf8')))

/** Splits the batch layout back into buffers. */
function split({ bytes, offsets }) {
  return Array.from({ length: offsets.length - 1 }, (_, i) => bytes.subarray(offsets[i], offsets[i + 1]))
}

const keysOf = (keyTexts, ascending, composite) => {
  const { bytes, offsets } = batch(keyTexts)
  return split(native.encodeKeysFromCanonical(bytes, offsets, ascending, composite))
}

// Two indexes: 0 by name (ascending), 1 by [age descending, name ascending].
const people = [
  '{"age":30,"name":"ann"}',
  '{"age":25,"name":"bob"}',
  '{"age":30,"name":"cy"}',
  '{"age":30,"name":"ann"}',
]
function addPeople(zset, texts, weights) {
  const rows = batch(texts)
  const parsed = texts.map((t) => JSON.parse(t))
  const byName = keysOf(parsed.map((p) => JSON.stringify(p.name)), [true], false)
  const byAgeName = keysOf(parsed.map((p) => `[${p.age},${JSON.stringify(p.name)}]`), [false, true], true)
  // Row-major: row i's key for index j is item i * 2 + j.
  const keys = join(parsed.flatMap((_, i) => [byName[i], byAgeName[i]]))
  return zset.addBatch(rows.bytes, rows.offsets, Float64Array.from(weights), keys.bytes, keys.offsets)
}

const z = new native.NativeZSet(2)
const slotOf = {}

check('addBatch consolidates and reports one change per row', () => {
  const changes = addPeople(z, people, [1, 1, 1, 1])
  assert.deepEqual([...changes.origins], [0, 1, 2])
  assert.deepEqual([...changes.oldWeights], [0, 0, 0])
  assert.deepEqual([...changes.newWeights], [2, 1, 1])
  assert.equal(new Set(changes.slots).size, 3)
  changes.origins.forEach((origin, k) => (slotOf[JSON.parse(people[origin]).name] = changes.slots[k]))
  assert.equal(z.size, 3)
  assert.equal(z.indexCount, 2)
})

check('hash matches multisetHash of the same rows', () => {
  const rows = batch(people)
  assert.equal(z.hash(), native.multisetHash(rows.bytes, rows.offsets, Float64Array.from([1, 1, 1, 1])))
  assert.match(z.hash(), /^[0-9a-f]{32}$/)
})

check('findRows gives slots and weights, absent rows slot 2^32-1', () => {
  const rows = batch([people[0], '{"age":1,"name":"nobody"}'])
  const found = z.findRows(rows.bytes, rows.offsets)
  assert.deepEqual([...found.slots], [slotOf.ann, 4294967295])
  assert.deepEqual([...found.weights], [2, 0])
})

check('entries lists every row in slot order', () => {
  const all = z.entries()
  assert.deepEqual([...all.slots], [...all.slots].sort((a, b) => a - b))
  assert.equal(all.slots.length, 3)
})

check('lookupByKeys groups results per key', () => {
  const { bytes, offsets } = join(keysOf(['"bob"', '"zed"', '"ann"'], [true], false))
  const found = z.lookupByKeys(0, bytes, offsets)
  assert.deepEqual([...found.offsets], [0, 1, 1, 2])
  assert.deepEqual([...found.slots], [slotOf.bob, slotOf.ann])
  assert.deepEqual([...found.weights], [1, 2])
})

check('scanOrdered follows the index order, forwards and backwards, with a limit', () => {
  assert.deepEqual([...z.scanOrdered(1).slots], [slotOf.ann, slotOf.cy, slotOf.bob])
  assert.deepEqual([...z.scanOrdered(1, 1, true).slots], [slotOf.bob])
  assert.deepEqual([...z.scanOrdered(0, 2).slots], [slotOf.ann, slotOf.bob])
})

check('scanPrefix finds keys by their leading component', () => {
  const [age30] = keysOf(['30'], [false], false)
  const found = z.scanPrefix(1, age30)
  assert.deepEqual([...found.slots], [slotOf.ann, slotOf.cy])
  assert.deepEqual([...z.scanPrefix(1, age30, 1).slots], [slotOf.ann])
})

check('canonicalOf returns the stored canonical bytes', () => {
  const texts = split(z.canonicalOf(Uint32Array.from([slotOf.cy, slotOf.ann]))).map((b) => b.toString('utf8'))
  assert.deepEqual(texts, [people[2], people[0]])
  assert.throws(() => z.canonicalOf(Uint32Array.from([99])), /slot 99 holds no row/)
})

check('identityHashes returns 16 bytes per row', () => {
  const rows = batch(['null', 'true'])
  const ids = native.identityHashes(rows.bytes, rows.offsets)
  assert.equal(ids.length, 32)
})

check('mergeFrom, equals, negate: z + (-z) is empty', () => {
  const copy = new native.NativeZSet(2)
  const changes = copy.mergeFrom(z)
  assert.equal(changes.slots.length, 3)
  assert.ok(copy.equals(z))
  assert.equal(copy.hash(), z.hash())
  copy.negate()
  assert.ok(!copy.equals(z))
  const removed = z.mergeFrom(copy)
  assert.deepEqual([...removed.newWeights], [0, 0, 0])
  assert.equal(z.size, 0)
  assert.equal(z.hash(), '0'.repeat(32))
  assert.deepEqual([...z.scanOrdered(0).slots], [])
  // The negated copy kept its indexes.
  assert.equal(copy.scanOrdered(1).slots.length, 3)
})

check('mergeFrom itself doubles every weight; scale multiplies; clear empties', () => {
  const w = new native.NativeZSet(2)
  addPeople(w, people.slice(0, 2), [1, -3])
  const doubled = w.mergeFrom(w)
  assert.deepEqual([...doubled.newWeights].sort((a, b) => a - b), [-6, 2])
  assert.deepEqual([...doubled.origins], [...doubled.slots])
  w.scale(-2)
  assert.deepEqual([...w.entries().weights].sort((a, b) => a - b), [-4, 12])
  w.scale(0)
  assert.equal(w.size, 0)
  addPeople(w, people.slice(0, 1), [1])
  w.clear()
  assert.equal(w.size, 0)
})

check('bad input raises and changes nothing', () => {
  const w = new native.NativeZSet(2)
  addPeople(w, people.slice(0, 1), [1])
  const before = w.hash()
  assert.throws(() => addPeople(w, people.slice(0, 1), [0.5]), /weight/)
  assert.throws(() => addPeople(w, people.slice(0, 1), [2 ** 53 - 1]), /safe integers/)
  const rows = batch(people.slice(0, 1))
  assert.throws(() => w.addBatch(rows.bytes, Uint32Array.from([0, 3]), Float64Array.from([1]), Buffer.alloc(0), Uint32Array.from([0])), /offsets/)
  assert.throws(() => w.addBatch(rows.bytes, rows.offsets, Float64Array.from([1]), Buffer.alloc(0), Uint32Array.from([0])), /disagree in length/)
  assert.throws(() => w.scanOrdered(2), /no index 2/)
  assert.throws(() => w.mergeFrom(new native.NativeZSet(1)), /indexes/)
  assert.throws(() => w.scale(1.5), /factor/)
  assert.throws(() => keysOf(['"\\ud800"'], [true], false), /lone surrogate/)
  assert.throws(() => keysOf(['1'], [true, false], false), /exactly one ascending flag/)
  assert.throws(() => keysOf(['{"$q":1}'], [true], false), /unknown `\$` tag/)
  assert.equal(w.hash(), before)
  assert.equal(w.size, 1)
})

const vectorsDir = path.join(root, 'testdata', 'vectors')
const readVectors = (name) => {
  const file = path.join(vectorsDir, name)
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined
}

const values = readVectors('values.json')
if (values) {
  check(`identityHashes agrees with values.json (${values.length} vectors)`, () => {
    const rows = batch(values.map((v) => v.canonical))
    const ids = native.identityHashes(rows.bytes, rows.offsets)
    values.forEach((v, i) => assert.equal(ids.subarray(16 * i, 16 * i + 16).toString('hex'), v.hash, v.canonical))
  })
}

const multiset = readVectors('multiset.json')
if (multiset) {
  check(`multisetHash agrees with multiset.json (${multiset.length} vectors)`, () => {
    for (const v of multiset) {
      const rows = batch(v.rows.map(([text]) => text))
      assert.equal(native.multisetHash(rows.bytes, rows.offsets, Float64Array.from(v.rows.map(([, w]) => w))), v.hash)
    }
  })
}

const keys = readVectors('keys.json')
if (keys) {
  check(`encodeKeysFromCanonical agrees with keys.json (${keys.encodings.length} encodings, ${keys.orders.length} orders)`, () => {
    for (const v of keys.encodings) {
      const [bytes] = keysOf([v.key], v.ascending, v.composite)
      assert.equal(bytes.toString('hex'), v.hex, v.key)
    }
    for (const order of keys.orders) {
      const encoded = keysOf(order.sorted, order.ascending, order.composite)
      for (let i = 1; i < encoded.length; i++) {
        assert.ok(Buffer.compare(encoded[i - 1], encoded[i]) <= 0, `${order.sorted[i - 1]} sorts after ${order.sorted[i]}`)
      }
    }
  })
}

console.log(`${checks} passed, 0 failed`)
