/**
 * Indexes: how a ZSet is ordered and looked up by key (the paper's "indexed Z-sets").
 *
 * `st.index<Row>(r => r.name)` records the field path with a Proxy, so the index
 * is named after the path and its key function is a plain property walk. Any
 * other function must be given a name: names end up in table and column names.
 */
import { encodeCompositeKey, encodeKeyComponent } from '../values/key.js'
import { GraphError, InvalidValueError } from '../values/errors.js'

export interface IndexOptions {
  /** One flag per key component (composite) or a single flag. */
  ascending?: boolean | readonly boolean[]
  /** Required when the key is computed rather than a field path. */
  name?: string
}

export interface Index<T, K> {
  readonly name: string
  readonly paths: readonly (readonly string[])[] | undefined
  readonly composite: boolean
  readonly ascending: readonly boolean[]
  // Method syntax keeps Index<T, number> usable where Index<T, unknown> is expected.
  /** The key of a row. */
  key(row: T): K
  /** The order-preserving encoding of a key (a binary string). */
  encodeKey(key: K): string
  /** Equal for indexes that order rows the same way. */
  readonly id: string
  /** Phantom for inference. */
  readonly __types?: [T, K]
}

export type KeyOf<I> = I extends Index<any, infer K> ? K : never

const PATH = Symbol('stepping.path')

interface Recording {
  computed: boolean
}

function recorder(path: string[], rec: Recording): unknown {
  return new Proxy(function () {}, {
    get(_t, prop) {
      if (prop === PATH) return path
      if (typeof prop === 'symbol') {
        rec.computed = true
        return undefined
      }
      return recorder([...path, prop], rec)
    },
    apply() {
      rec.computed = true
      return recorder([...path, '()'], rec)
    },
    has() {
      rec.computed = true
      return false
    },
  })
}

function pathOf(v: unknown): string[] | undefined {
  if ((typeof v === 'function' || typeof v === 'object') && v !== null) {
    const p = (v as Record<symbol, unknown>)[PATH]
    if (Array.isArray(p)) return p
  }
  return undefined
}

function record(f: (row: any) => unknown): { paths: string[][]; composite: boolean } | undefined {
  const rec: Recording = { computed: false }
  let result: unknown
  try {
    result = f(recorder([], rec))
  } catch {
    return undefined
  }
  if (rec.computed) return undefined
  const single = pathOf(result)
  if (single) return { paths: [single], composite: false }
  if (Array.isArray(result) && result.length > 0) {
    const paths = result.map(pathOf)
    if (paths.every((p): p is string[] => p !== undefined)) return { paths, composite: true }
  }
  return undefined
}

/**
 * A function reading `path` from a row. Made per path with the field names as
 * literals, so that each index's reads keep their own inline caches: one
 * shared closure over a variable name sees every index's rows and fields and
 * turns megamorphic. Names enter the source only as JSON string literals.
 */
function accessor(path: readonly string[]): (row: any) => unknown {
  if (path.length === 0) return (row) => row
  const reads = path.map((p) => `[${JSON.stringify(p)}]`).join('?.')
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('row', `return row${reads}`) as (row: any) => unknown
}

const validName = /^[A-Za-z_][A-Za-z0-9_.]*$/

function makeIndex<T, K>(
  name: string,
  paths: string[][] | undefined,
  composite: boolean,
  ascending: boolean[],
  key: (row: T) => K,
): Index<T, K> {
  if (!validName.test(name)) {
    throw new GraphError(`index name ${JSON.stringify(name)} must match ${validName} (it names SQL columns)`)
  }
  // Rows of a batch often share a key (all reads of one meter): the last
  // primitive key's encoding is kept, which saves an allocation per row.
  let lastKey: unknown
  let lastEncoded: string | undefined
  const encodeKey = composite
    ? (k: K) => encodeCompositeKey(k as unknown as unknown[], ascending)
    : (k: K) => {
        if (k === lastKey && lastEncoded !== undefined) return lastEncoded
        const encoded = encodeKeyComponent(k, ascending[0])
        if (typeof k !== 'object') {
          lastKey = k
          lastEncoded = encoded
        }
        return encoded
      }
  const checkedKey = (row: T): K => {
    const k = key(row)
    if (k === undefined) {
      throw new InvalidValueError(`index "${name}" gives no key for this row (is the field missing?)`, '')
    }
    return k
  }
  return {
    name,
    paths,
    composite,
    ascending,
    key: checkedKey,
    encodeKey,
    id: `${name}:${ascending.map((a) => (a ? 'a' : 'd')).join('')}`,
  }
}

function normaliseAscending(asc: IndexOptions['ascending'], n: number): boolean[] {
  if (asc === undefined) return Array(n).fill(true)
  if (typeof asc === 'boolean') return Array(n).fill(asc)
  if (asc.length !== n) throw new GraphError(`ascending has ${asc.length} flags for a key of ${n} components`)
  return [...asc]
}

/**
 * An index picking its key from a row: a field path (`r => r.a.b`), a composite
 * of paths (`r => [r.a, r.b]`), or any function with `{ name }`.
 */
// K defaults to `any`: TypeScript cannot infer K once T is given (`st.index<Row>(r => r.id)`);
// write `st.index<Row, string>(...)` for an exact key type.
function index<T, K = any>(f: (row: T) => K, options: IndexOptions = {}): Index<T, K> {
  const recorded = record(f as (row: any) => unknown)
  if (recorded) {
    const { paths, composite } = recorded
    const name = options.name ?? (paths.map((p) => (p.length ? p.join('.') : 'self')).join('__'))
    const ascending = normaliseAscending(options.ascending, paths.length)
    const getters = paths.map(accessor)
    const key = composite
      ? ((row: T) => getters.map((g) => g(row))) as unknown as (row: T) => K
      : (getters[0] as (row: T) => K)
    return makeIndex(name, paths, composite, ascending, key)
  }
  if (options.name === undefined) {
    throw new GraphError(
      'st.index: this key is computed, not a field path, so it needs a name: st.index(f, { name: "..." })',
    )
  }
  const probeComposite = Array.isArray(options.ascending)
  const ascending = probeComposite
    ? normaliseAscending(options.ascending, (options.ascending as boolean[]).length)
    : normaliseAscending(options.ascending, 1)
  return makeIndex(options.name, undefined, probeComposite, ascending, f)
}

/** The row itself is the key. */
index.identity = function identity<T>(options: { ascending?: boolean } = {}): Index<T, T> {
  return makeIndex('identity', [[]], false, [options.ascending ?? true], (row: T) => row)
}

export { index }

/** State rows of a delay inside perGroup are `{ left: value, right: groupKey }`, indexed by the key. */
export const GROUP_KEY_INDEX: Index<{ left: unknown; right: unknown }, unknown> = index<{ left: unknown; right: unknown }>((p) => p.right)

/** A row's key under `index`, encoded; a row entry that knows its group key (Entry.groupKey) skips the encoding. */
export function encodedKeyOf<T>(index: Index<T, unknown>, value: T, groupKey: string | undefined): string {
  return groupKey !== undefined && index === (GROUP_KEY_INDEX as Index<any, unknown>) ? groupKey : index.encodeKey(index.key(value))
}
