/**
 * Pictures of circuits: Graphviz DOT text with one node per vertex, delays
 * drawn as state (boxes with a double border), per-group and recursive
 * sub-circuits as clusters. `renderGraph` lays it out with Graphviz compiled
 * to WebAssembly, so nothing needs installing.
 */
import type { Graph } from '../graph/compile.js'
import type { Scope, Vertex } from '../graph/graph.js'

const KIND_LABEL: Partial<Record<Vertex['kind'], string>> = {
  delay: 'z⁻¹ delay',
  add: '+ add',
  neg: '− neg',
  join: '⋈ join',
  haitch: 'H haitch',
  aggregate: 'Σ aggregate',
  aggregateToSet: 'makeSet',
  perGroup: 'per group',
  fixedPoint: 'fixed point',
}

function describe(v: Vertex): string {
  const p = v.params
  const parts: string[] = []
  if (p.f?.name) parts.push(`f: ${p.f.name}`)
  if (p.pick?.name) parts.push(`pick: ${p.pick.name}`)
  if (p.onLeft && p.onRight) parts.push(`on ${p.onLeft.name} = ${p.onRight.name}`)
  if (p.index) parts.push(`by ${p.index.name}${p.n !== undefined ? `, n = ${p.n}` : ''}`)
  if (p.by) parts.push(`by ${p.by.name}`)
  if (p.indexes?.length) parts.push(`indexes: ${p.indexes.map((i) => i.name).join(', ')}`)
  if (p.inputNumber !== undefined) parts.push(`input ${p.inputNumber}`)
  return parts.join('\\n')
}

const valueLabel = { zset: 'ZSet', scalar: 'scalar', grouped: 'grouped ZSet' } as const

const quote = (s: string) => '"' + s.replace(/\\(?!n)/g, '\\\\').replace(/"/g, '\\"') + '"'

function node(v: Vertex, isOutput: boolean): string {
  const title = KIND_LABEL[v.kind] ?? v.kind
  const detail = describe(v)
  const label = [title, detail, `→ ${valueLabel[v.value]}`, v.path].filter(Boolean).join('\\n')
  const style =
    v.kind === 'delay'
      ? 'shape=box, peripheries=2, style=filled, fillcolor="#fde9c8"'
      : v.kind === 'input' || v.kind === 'scopeInput'
        ? 'shape=invhouse, style=filled, fillcolor="#d6eaf8"'
        : isOutput
          ? 'shape=house, style=filled, fillcolor="#d5f5e3"'
          : 'shape=box, style=rounded'
  return `  v${v.id} [label=${quote(label)}, ${style}];`
}

function scopeLines(scope: Scope, outputs: Set<Vertex>, lines: string[], depth: number): void {
  for (const v of scope.order) {
    lines.push(node(v, outputs.has(v)))
    if (v.params.sub) {
      const sub = v.params.sub
      lines.push(`  subgraph cluster_${v.id} {`)
      lines.push(`    label=${quote(v.kind === 'perGroup' ? `per group: ${v.path}` : `recursion: ${v.path}`)};`)
      lines.push(`    style=dashed; color="${depth % 2 ? '#7d3c98' : '#2e86c1'}";`)
      scopeLines(sub, new Set(sub.output ? [sub.output] : []), lines, depth + 1)
      lines.push('  }')
      if (sub.input) lines.push(`  v${v.inputs[0]!.id} -> v${sub.input.id} [style=dotted];`)
      if (sub.output) lines.push(`  v${sub.output.id} -> v${v.id} [style=dotted];`)
    }
    for (const input of v.inputs) {
      const back = v.kind === 'delay' ? ' [style=dashed, constraint=false, label="t−1"]' : ''
      lines.push(`  v${input.id} -> v${v.id}${back};`)
    }
  }
}

/** The graph as Graphviz DOT text. */
export function toDot(graph: Graph<any, any>): string {
  const lines = ['digraph stepping {', '  rankdir=TB; fontname="Helvetica"; node [fontname="Helvetica", fontsize=10]; edge [fontsize=9];']
  scopeLines(graph.def.root, new Set(graph.def.outputs), lines, 0)
  lines.push('}')
  return lines.join('\n')
}

/** Render the graph to an SVG file (or return the SVG text when no path is given). */
export async function renderGraph(graph: Graph<any, any>, path?: string): Promise<string> {
  const { instance } = await import('@viz-js/viz')
  const viz = await instance()
  const svg = viz.renderString(toDot(graph), { format: 'svg', engine: 'dot' })
  if (path) {
    const { writeFile } = await import('node:fs/promises')
    await writeFile(path, svg)
  }
  return svg
}
