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
/** The `apply` layout: joined texts with UTF-16 lengths; keys with byte lengths, row-major. */
function applyArgs(texts, weights) {
  const parsed = texts.map((t) => JSON.parse(t))
  const byName = keysOf(parsed.map((p) => JSON.stringify(p.name)), [true], false)
  const byAgeName = keysOf(parsed.map((p) => `[${p.age},${JSON.stringify(p.name)}]`), [false, true], true)
  const keys = parsed.flatMap((_, i) => [byName[i], byAgeName[i]])
  return [
    Buffer.from(texts.join(''), 'utf8'),
    Uint32Array.from(texts.map((t) => t.length)),
    Float64Array.from(weights),
    Buffer.concat(keys),
    Uint32Array.from(keys.map((k) => k.length)),
  ]
}

/**
 * The exchange arrays the table functions read and write (lib.rs `Exchange`),
 * 64 items each unless `sizes` says otherwise.
 */
function exchangeArrays(sizes = {}) {
  const n = (name) => sizes[name] ?? 64
  return {
    rowBytes: Buffer.alloc(n('rowBytes') * 8),
    keyBytes: Buffer.alloc(n('keyBytes') * 8),
    rowLengths: new Uint32Array(n('rowLengths')),
    keyLengths: new Uint32Array(n('keyLengths')),
    weights: new Float64Array(n('weights')),
    slots: new Uint32Array(n('slots')),
    slotWeights: new Float64Array(n('slotWeights')),
    counts: new Uint32Array(n('counts')),
  }
}
const setExchange = (x) => native.setExchange(x)

check('the table functions refuse to run before exchange arrays are set, and arrays sharing memory', () => {
  assert.throws(() => native.tableWeightsOf(new native.NativeZSet(1).handle, 0, 0), /no exchange arrays/)
  const x = exchangeArrays()
  assert.throws(() => native.setExchange({ ...x, keyBytes: x.rowBytes.subarray(8) }), /share memory/)
  const shared = new ArrayBuffer(1024)
  assert.throws(() => native.setExchange({ ...x, rowLengths: new Uint32Array(shared, 0, 64), keyLengths: new Uint32Array(shared, 252, 16) }), /share memory/)
  assert.throws(() => native.setExchange({ ...x, counts: undefined }), /counts/)
  assert.throws(() => native.setExchange({ ...x, weights: new Uint32Array(8) }), /Float64Array/)
  // Adjacent views of one buffer do not overlap: accepted.
  native.setExchange({ ...x, rowLengths: new Uint32Array(shared, 0, 64), keyLengths: new Uint32Array(shared, 256, 64) })
})

let exchange = exchangeArrays()
setExchange(exchange)

/** Applies `rows` ([texts, row lengths, weights, keys, key lengths], as `applyArgs` gives) through the exchange arrays. */
function applyThrough(handle, [texts, rowLengths, weights, keys, keyLengths]) {
  exchange.rowBytes.set(texts)
  exchange.rowLengths.set(rowLengths)
  exchange.weights.set(weights)
  exchange.keyBytes.set(keys)
  exchange.keyLengths.set(keyLengths)
  return native.tableApply(handle, rowLengths.length, texts.length, keys.length)
}

/** Applies rows; returns the (slot, origin) pairs, origin 0xFFFFFFFF for a row that left. */
function addPeople(zset, texts, weights) {
  const n = applyThrough(zset.handle, applyArgs(texts, weights))
  const out = exchange.slots
  return Array.from({ length: n }, (_, k) => [out[2 * k], out[2 * k + 1]])
}

/** Looks `keys` (buffers) up through the exchange arrays: the total, and the slots, weights and counts written. */
function lookupThrough(handle, index, keys, sorted, withCounts) {
  const bytes = Buffer.concat(keys)
  exchange.keyBytes.set(bytes)
  exchange.keyLengths.set(keys.map((k) => k.length))
  const total = native.tableLookup(handle, index, keys.length, bytes.length, sorted, withCounts)
  return { total, slots: [...exchange.slots.subarray(0, total)], weights: [...exchange.slotWeights.subarray(0, total)], counts: [...exchange.counts.subarray(0, keys.length)] }
}

/** The weights of `texts` through the exchange arrays. */
function weightsThrough(handle, texts) {
  const bytes = Buffer.from(texts.join(''))
  exchange.rowBytes.set(bytes)
  exchange.rowLengths.set(texts.map((t) => t.length))
  native.tableWeightsOf(handle, texts.length, bytes.length)
  return [...exchange.slotWeights.subarray(0, texts.length)]
}

const REMOVED = 0xffffffff
const z = new native.NativeZSet(2)
const slotOf = {}

check('apply consolidates and reports the rows that appeared', () => {
  const pairs = addPeople(z, people, [1, 1, 1, 1])
  assert.deepEqual(pairs.map(([, origin]) => origin), [0, 1, 2])
  assert.equal(new Set(pairs.map(([slot]) => slot)).size, 3)
  pairs.forEach(([slot, origin]) => (slotOf[JSON.parse(people[origin]).name] = slot))
  assert.equal(z.size, 3)
  assert.equal(z.indexCount, 2)
  // A weight change alone reports nothing; a row leaving reports its slot.
  assert.deepEqual(addPeople(z, [people[1]], [2]), [])
  assert.deepEqual(addPeople(z, [people[1]], [-3]), [[slotOf.bob, REMOVED]])
  slotOf.bob = addPeople(z, [people[1]], [1])[0][0]
})

check('hash matches multisetHash of the same rows, incrementally and recomputed', () => {
  const rows = batch(people)
  assert.equal(z.hash(), native.multisetHash(rows.bytes, rows.offsets, Float64Array.from([1, 1, 1, 1])))
  assert.equal(z.recomputeHash(), z.hash())
  assert.match(z.hash(), /^[0-9a-f]{32}$/)
})

check('weightsOf gives each row its weight, 0 when absent (non-ASCII text too)', () => {
  const texts = [people[0], '{"age":1,"name":"nobödy"}', people[1]]
  assert.deepEqual(weightsThrough(z.handle, texts), [2, 0, 1])
})

check('entries lists every row in slot order', () => {
  const slots = new Uint32Array(8)
  const weights = new Float64Array(8)
  assert.equal(z.entries(slots, weights), 3)
  assert.deepEqual([...slots.subarray(0, 3)], [...slots.subarray(0, 3)].sort((a, b) => a - b))
  assert.equal(z.entries(new Uint32Array(1), new Float64Array(1)), 3, 'too small: nothing written, count returned')
})

check('lookup finds rows per key, with per-key counts', () => {
  const keys = keysOf(['"bob"', '"zed"', '"ann"'], [true], false)
  const found = lookupThrough(z.handle, 0, keys, true, true)
  assert.equal(found.total, 2)
  assert.deepEqual(found.counts, [1, 0, 1])
  assert.deepEqual(found.slots, [slotOf.bob, slotOf.ann])
  assert.deepEqual(found.weights, [1, 2])
  // Without counts, they are left as they were.
  exchange.counts.fill(7)
  assert.equal(lookupThrough(z.handle, 0, keys, false, false).total, 2)
  assert.deepEqual([...exchange.counts.subarray(0, 3)], [7, 7, 7])
  // Exchange arrays too small for the rows found: the total is returned (the caller grows them and retries).
  const small = exchangeArrays({ slots: 1, slotWeights: 1 })
  setExchange(small)
  small.keyBytes.set(Buffer.concat(keys))
  small.keyLengths.set(keys.map((k) => k.length))
  assert.equal(native.tableLookup(z.handle, 0, keys.length, Buffer.concat(keys).length, false, false), 2)
  setExchange(exchange)
})

/** All rows of a scan, in chunks of `limit`, resuming after the last row each time. */
function scanAll(zset, index, prefix = Buffer.alloc(0), limit = 1) {
  const found = []
  let after = Buffer.alloc(0)
  for (;;) {
    const slots = new Uint32Array(limit)
    const lengths = new Uint32Array(limit)
    const bytes = Buffer.alloc(4096)
    const r = zset.scan(index, after, prefix, limit, slots, new Float64Array(limit), lengths, bytes)
    const n = r < 0 ? -r - 1 : r
    let at = 0
    for (let k = 0; k < n; k++) {
      const key = bytes.subarray(at, at + lengths[k])
      const tie = bytes.subarray(at + lengths[k], at + lengths[k] + 32).toString('latin1')
      found.push({ slot: slots[k], key, tie })
      at += lengths[k] + 32
      after = Buffer.concat([key, Buffer.from(tie, 'hex')])
    }
    if (r >= 0 && n < limit) return found
  }
}

check('scan follows the index order, resumes after a cursor, and gives identities', () => {
  assert.deepEqual(scanAll(z, 1).map((r) => r.slot), [slotOf.ann, slotOf.cy, slotOf.bob])
  assert.deepEqual(scanAll(z, 0, undefined, 2).map((r) => r.slot), [slotOf.ann, slotOf.bob, slotOf.cy])
  const ids = native.identityHashes(batch([people[0]]).bytes, Uint32Array.from([0, Buffer.byteLength(people[0])]))
  assert.equal(scanAll(z, 0)[0].tie, ids.toString('hex'))
  const [age30] = keysOf(['30'], [false], false)
  assert.deepEqual(scanAll(z, 1, age30).map((r) => r.slot), [slotOf.ann, slotOf.cy])
})

check('identityHashes returns 16 bytes per row', () => {
  const rows = batch(['null', 'true'])
  const ids = native.identityHashes(rows.bytes, rows.offsets)
  assert.equal(ids.length, 32)
})

check('mergeFrom, copy, equals, negate: z + (-z) is empty', () => {
  const copy = z.copy()
  assert.ok(copy.equals(z))
  assert.equal(copy.hash(), z.hash())
  copy.negate()
  assert.ok(!copy.equals(z))
  const out = new Uint32Array(2 * copy.size)
  const n = z.mergeFrom(copy, 1, out)
  assert.equal(n, 3)
  assert.deepEqual([...out].filter((_, i) => i % 2 === 1), [REMOVED, REMOVED, REMOVED])
  assert.equal(z.size, 0)
  assert.equal(z.hash(), '0'.repeat(32))
  assert.deepEqual(scanAll(z, 0), [])
  // The negated copy kept its rows and indexes.
  assert.equal(scanAll(copy, 1).length, 3)
  const fresh = new native.NativeZSet(2)
  const into = new Uint32Array(6)
  assert.equal(fresh.mergeFrom(copy, -1, into), 3)
  assert.equal(fresh.recomputeHash(), fresh.hash())
  fresh.mergeFrom(copy, 1, into)
  assert.equal(fresh.size, 0)
})

check('mergeFrom itself doubles every weight; scale multiplies; clear empties', () => {
  const w = new native.NativeZSet(2)
  addPeople(w, people.slice(0, 2), [1, -3])
  assert.equal(w.mergeFrom(w, 1, new Uint32Array(4)), 0)
  const weights = new Float64Array(2)
  w.entries(new Uint32Array(2), weights)
  assert.deepEqual([...weights].sort((a, b) => a - b), [-6, 2])
  w.scale(-2)
  w.entries(new Uint32Array(2), weights)
  assert.deepEqual([...weights].sort((a, b) => a - b), [-4, 12])
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
  const [rows, , weights, keys, keyLengths] = applyArgs(people.slice(0, 1), [1])
  assert.throws(() => applyThrough(w.handle, [rows, Uint32Array.from([3]), weights, keys, keyLengths]), /rows/)
  // Key lengths that do not add up to the key bytes given.
  exchange.rowLengths[0] = rows.length
  exchange.keyLengths.set([1, 1])
  assert.throws(() => native.tableApply(w.handle, 1, rows.length, keys.length), /keys/)
  // More rows or bytes than the exchange arrays hold.
  assert.throws(() => native.tableApply(w.handle, 65, rows.length, keys.length), /row lengths: 65 wanted, the exchange array holds 64/)
  assert.throws(() => native.tableApply(w.handle, 1, 10_000, keys.length), /row bytes: 10000 wanted/)
  setExchange(exchangeArrays({ slots: 1 }))
  assert.throws(() => applyThrough(w.handle, [rows, Uint32Array.from([rows.length]), weights, keys, keyLengths]), /changes: 2 wanted/)
  setExchange(exchange)
  assert.throws(() => w.scan(2, Buffer.alloc(0), Buffer.alloc(0), 1, new Uint32Array(1), new Float64Array(1), new Uint32Array(1), Buffer.alloc(64)), /no index 2/)
  assert.throws(() => w.mergeFrom(new native.NativeZSet(1), 1, new Uint32Array(0)), /indexes/)
  assert.throws(() => w.scale(1.5), /factor/)
  assert.throws(() => keysOf(['"\\ud800"'], [true], false), /lone surrogate/)
  assert.throws(() => keysOf(['1'], [true, false], false), /exactly one ascending flag/)
  assert.throws(() => keysOf(['{"$q":1}'], [true], false), /unknown `\$` tag/)
  assert.equal(w.hash(), before)
  assert.equal(w.size, 1)
})

check('each table has its own handle; size by handle; an unknown handle is refused', () => {
  const a = new native.NativeZSet(2)
  const b = new native.NativeZSet(2)
  assert.equal(typeof a.handle, 'number')
  assert.notEqual(a.handle, b.handle)
  assert.notEqual(a.handle, z.handle)
  addPeople(a, people, [1, 1, 1, 1])
  assert.equal(native.tableSize(a.handle), 3)
  assert.equal(native.tableSize(a.handle), a.size)
  assert.equal(native.tableSize(b.handle), 0, 'b is untouched by a')
  const rows = batch(people)
  assert.equal(a.hash(), native.multisetHash(rows.bytes, rows.offsets, Float64Array.from([1, 1, 1, 1])))
  const keys = keysOf(['"ann"'], [true], false)
  assert.throws(() => lookupThrough(a.handle, 5, keys, true, false), /no index 5/)
  assert.throws(() => native.tableSize(0xfffffff), /no table has handle/)
  assert.throws(() => applyThrough(0xfffffff, applyArgs(people, [1, 1, 1, 1])), /no table has handle/)
  assert.throws(() => native.tableWeightsOf(0xfffffff, 0, 0), /no table has handle/)
  assert.throws(() => native.tableLookup(0xfffffff, 0, 0, 0, false, false), /no table has handle/)
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

/** A table's handle is freed when the table is collected (needs node --expose-gc; async, so last). */
async function handleFreedOnCollection() {
  if (typeof global.gc !== 'function') return
  const handle = (() => new native.NativeZSet(1).handle)()
  assert.equal(native.tableSize(handle), 0)
  // Finalizers run after the collection, on a later turn of the event loop.
  for (let i = 0; i < 50; i++) {
    global.gc()
    await new Promise((resolve) => setImmediate(resolve))
    try {
      native.tableSize(handle)
    } catch (e) {
      assert.match(e.message, /no table has handle/)
      checks++
      console.log(`ok ${checks} - a collected table's handle is refused`)
      return
    }
  }
  assert.fail('the table was not collected, or its handle outlived it')
}

handleFreedOnCollection().then(
  () => console.log(`${checks} passed, 0 failed`),
  (e) => {
    console.error(e)
    process.exitCode = 1
  },
)
