/**
 * stepping: incremental view maintenance for TypeScript (DBSP).
 * Write `outputs = f(inputs)` once; feed changes; get the outputs' changes.
 */
export { EMPTY, pair, type Empty, type Pair } from './values/value.js'
export { InvalidValueError, GraphError, UsageError } from './values/errors.js'
export { canonical, decodeCanonical } from './values/encode.js'
export { identityHash } from './values/hash.js'
export { encodeKeyComponent, encodeCompositeKey } from './values/key.js'
export { zset, ZSet, isZSet } from './zset/zset.js'
export { index, type Index, type IndexOptions } from './zset/indexes.js'
export { compile, input, Graph, type InputMarker, type InputSpec } from './graph/compile.js'
export { Stream, Scalar, Grouped, Feedback, feedback } from './graph/builder.js'
export * from './operators/all.js'
export { iteration, actions, type Action, type IterationOptions } from './runtime/iteration.js'
export { time, type Time } from './runtime/time.js'
export { memoryStore, type MemoryStoreOptions } from './stores/memory.js'
export { sqliteStore, SqliteStore } from './stores/sqlite.js'
export { postgresStore, PostgresStore, type PostgresStoreOptions } from './stores/postgres.js'
export { type SqlStoreOptions, StoreSchemaError, FrontierTimeoutError } from './stores/sql.js'
export type { Store, CacheReader } from './stores/store.js'

export { backend } from './native/binding.js'
export { toDot, renderGraph } from './render/dot.js'
