/**
 * The SQL stores' stored form of canonical texts (sql.ts `compactText`) made
 * in Rust for a whole batch (crates/stepping-core/src/stored_form.rs): the
 * texts cross in one buffer, and their stored forms come back as one string
 * that JS cuts up. Scanning every character in JS was the largest single cost
 * of writing meter reads to SQLite.
 */
import type { NameDictionary } from '../stores/names.js'
import type { Binding, NativeCompactor } from './binding.js'
import { Packer, SAME_AS_PREVIOUS_ROW, pack, scratchLength } from './packer.js'

/** Texts, and the first keys' texts (latin1 would not do: they hold any character). */
const textPacker = new Packer('utf8')
const keyPacker = new Packer('utf8')
let textLengths = new Uint32Array(1024)
let keyLengths = new Uint32Array(1024)
let outLengths = new Uint32Array(1024)

interface Synced {
  readonly addon: Binding
  readonly compactor: NativeCompactor
  version: number
}

/** One compactor per dictionary, refreshed when the dictionary changes; and one without names. */
const byDictionary = new WeakMap<NameDictionary, Synced>()
const withoutNames = new WeakMap<Binding, NativeCompactor>()

function compactorFor(addon: Binding, tokens: readonly string[], names: NameDictionary | undefined): NativeCompactor | undefined {
  const Native = addon.NativeCompactor
  if (Native === undefined) return undefined
  if (names === undefined) {
    let compactor = withoutNames.get(addon)
    if (compactor === undefined) {
      withoutNames.set(addon, (compactor = new Native(tokens)))
      compactor.setNames(null, false)
    }
    return compactor
  }
  let synced = byDictionary.get(names)
  if (synced === undefined || synced.addon !== addon) byDictionary.set(names, (synced = { addon, compactor: new Native(tokens), version: -1 }))
  if (synced.version !== names.version) {
    synced.compactor.setNames(names.inIdOrder, names.full)
    synced.version = names.version
  }
  return synced.compactor
}

/**
 * The stored forms of `canonicals` (each with its first key's text, or undefined), or
 * undefined when the addon predates the compactor or a text holds a name the dictionary
 * lacks and could still take (the TS compaction notes it). `tokens` must be sql.ts's TOKENS.
 */
export function compactBatch(
  addon: Binding,
  tokens: readonly string[],
  canonicals: readonly string[],
  keyTexts: readonly (string | undefined)[],
  names: NameDictionary | undefined,
): string[] | undefined {
  const compactor = compactorFor(addon, tokens, names)
  if (compactor === undefined) return undefined
  const n = canonicals.length
  if (textLengths.length < n) {
    const size = scratchLength(n)
    textLengths = new Uint32Array(size)
    keyLengths = new Uint32Array(size)
    outLengths = new Uint32Array(size)
  }
  pack(textPacker, canonicals, textLengths)
  const texts = textPacker.bytes()
  keyPacker.reset()
  let previous: string | undefined
  for (let i = 0; i < n; i++) {
    const key = keyTexts[i]
    if (key === undefined) keyLengths[i] = 0
    else if (i > 0 && key === previous) keyLengths[i] = SAME_AS_PREVIOUS_ROW
    else {
      keyLengths[i] = Buffer.byteLength(key)
      keyPacker.add(key)
    }
    previous = key
  }
  const joined = compactor.compact(texts, textLengths.subarray(0, n), keyPacker.bytes(), keyLengths.subarray(0, n), outLengths)
  if (joined === null) return undefined
  const out: string[] = new Array(n)
  let at = 0
  for (let i = 0; i < n; i++) {
    const end = at + outLengths[i]!
    out[i] = joined.slice(at, end)
    at = end
  }
  return out
}
