/**
 * `stepping graph <module>`: import a user's module, find the compiled graph it
 * exports (an `st.compile` result) and render it to SVG with `st.renderGraph`.
 *
 * TypeScript modules import directly when the CLI itself runs under tsx (as in
 * the repo); otherwise tsx is looked up next to the module, then next to the
 * CLI, and used for that one import.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, extname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as st from '../index.js'
import { CliError, errorLine } from './errors.js'

export interface GraphOptions {
  /** Name of the export holding the graph; found automatically when omitted. */
  readonly export: string | undefined
  readonly out: string
}

const TYPESCRIPT_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx'])

type AnyGraph = st.Graph<any, any>

/**
 * A compiled graph, recognised by shape rather than `instanceof`: the user's
 * module may import its own copy of stepping (e.g. built `dist/` vs `src/`).
 */
function isGraph(value: unknown): value is AnyGraph {
  if (typeof value !== 'object' || value === null) return false
  const def = (value as { def?: { root?: unknown; inputs?: unknown; outputs?: unknown } }).def
  return typeof def === 'object' && def !== null && typeof def.root === 'object' && Array.isArray(def.inputs) && Array.isArray(def.outputs)
}

/** tsx's `tsImport`, resolved from the user's project first, then from this package. */
async function findTsImport(moduleDir: string): Promise<((specifier: string, parent: string) => Promise<unknown>) | undefined> {
  for (const base of [join(moduleDir, 'noop.js'), import.meta.url]) {
    try {
      // require.resolve would pick the CommonJS build; the ESM entry comes from tsx's exports map.
      const packageJsonPath = createRequire(base).resolve('tsx/package.json')
      const manifest = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { exports?: Record<string, unknown> }
      const entry = manifest.exports?.['./esm/api'] as { import?: string | { default?: string } } | undefined
      const relative = typeof entry?.import === 'string' ? entry.import : entry?.import?.default
      if (!relative) continue
      const api = (await import(pathToFileURL(join(dirname(packageJsonPath), relative)).href)) as {
        tsImport?: (s: string, p: string) => Promise<unknown>
      }
      if (typeof api.tsImport === 'function') return api.tsImport
    } catch {
      // not installed there: try the next place
    }
  }
  return undefined
}

function errorCode(e: unknown): unknown {
  return typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined
}

async function importModule(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href
  try {
    return (await import(url)) as Record<string, unknown>
  } catch (e) {
    if (errorCode(e) !== 'ERR_UNKNOWN_FILE_EXTENSION' || !TYPESCRIPT_EXTENSIONS.has(extname(path))) {
      throw new CliError(`importing ${path} failed: ${errorLine(e)}`)
    }
  }
  const tsImport = await findTsImport(resolve(path, '..'))
  if (!tsImport) {
    throw new CliError(`${path} is TypeScript: install tsx next to it (npm install -D tsx) or compile it to .js first`)
  }
  try {
    return (await tsImport(url, import.meta.url)) as Record<string, unknown>
  } catch (e) {
    throw new CliError(`importing ${path} failed: ${errorLine(e)}`)
  }
}

/** The export to draw: the one named, else `default` or `graph`, else the only graph exported. */
export function pickGraph(exports: Record<string, unknown>, wanted: string | undefined, modulePath: string): { name: string; graph: AnyGraph } {
  if (wanted !== undefined) {
    if (!(wanted in exports)) throw new CliError(`${modulePath} has no export named ${wanted}`)
    const value = exports[wanted]
    if (!isGraph(value)) throw new CliError(`export ${wanted} of ${modulePath} is not a compiled graph (the result of st.compile)`)
    return { name: wanted, graph: value }
  }
  const graphs = Object.entries(exports).filter(([, v]) => isGraph(v)) as [string, AnyGraph][]
  for (const preferred of ['default', 'graph']) {
    const found = graphs.find(([name]) => name === preferred)
    if (found) return { name: found[0], graph: found[1] }
  }
  if (graphs.length === 1) return { name: graphs[0]![0], graph: graphs[0]![1] }
  if (graphs.length === 0) throw new CliError(`${modulePath} exports no compiled graph: export the result of st.compile(...)`)
  throw new CliError(`${modulePath} exports several graphs (${graphs.map(([n]) => n).join(', ')}): choose one with --export <name>`)
}

export async function runGraph(modulePath: string, options: GraphOptions, print: (line: string) => void): Promise<void> {
  const path = resolve(modulePath)
  if (!existsSync(path)) throw new CliError(`no such module: ${modulePath}`)
  const exports = await importModule(path)
  const { name, graph } = pickGraph(exports, options.export, modulePath)
  const out = resolve(options.out)
  await st.renderGraph(graph, out)
  const vertices = graph.def.allVertices.length
  const delays = graph.def.delays.length
  print(`wrote ${options.out}: graph "${name}" from ${modulePath} (${vertices} vertices, ${delays} delays)`)
}
