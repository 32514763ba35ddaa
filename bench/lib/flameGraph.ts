/**
 * A flame graph of a V8 .cpuprofile (node --cpu-prof) as a standalone SVG: one
 * box per call path, as wide as the time spent in it and in what it called,
 * callers below callees. Boxes are coloured by where the code lives (our
 * stores, operators, runtime, native binding; Node; dependencies), so the room
 * a cost sits in shows at a glance; hovering a box gives its function, file
 * and time.
 *
 * Written here rather than taken from npm: the flame graph packages there
 * either read other formats (perf, `--prof` logs) or render in a browser, and
 * this runs once per profiled bench run, off any hot path.
 */
import { type CpuNode, type CpuProfile, frameLabel, sampleMicros, where } from './profile.js'
import { esc } from './report.js'

export interface FlameGraphOptions {
  title: string
  /** Pixels (default 1200). */
  width?: number
  /** Boxes narrower than this many pixels are left out (default 0.5), with what they called. */
  minWidth?: number
}

const FRAME_HEIGHT = 17
const FONT_SIZE = 11
/** Roughly how wide a character of the label font is, in pixels. */
const CHAR_WIDTH = 6.2
const TOP = 36

/** Colours by the file a function lives in (the first match wins), with the legend's names. */
const ROOMS: [RegExp, string, string][] = [
  [/^src\/stores\//, '#e8a33d', 'stores'],
  [/^src\/native\/|\.node$/, '#d9534f', 'native binding'],
  [/^src\/operators\//, '#5b9bd5', 'operators'],
  [/^src\/runtime\//, '#8e7cc3', 'runtime'],
  [/^src\/(zset|values|graph)\//, '#6aa84f', 'ZSets, values, graph'],
  [/^src\//, '#93c47d', 'other src'],
  [/^bench\//, '#b7b7b7', 'bench'],
  [/^node:|^internal\//, '#c9c9a3', 'Node'],
]
const GC: [string, string] = ['#999999', 'garbage collector']
const OTHER: [string, string] = ['#d5a6bd', 'dependencies, native code']

function colorOf(n: CpuNode): string {
  if (n.callFrame.functionName === '(garbage collector)') return GC[0]
  const file = where(n.callFrame.url)
  for (const [re, color] of ROOMS) if (re.test(file)) return color
  return OTHER[0]
}

/** A row of colour swatches with their names, right-aligned at `right`. */
function legend(right: number, y: number): string {
  const items: [string, string][] = [...ROOMS.map(([, color, name]): [string, string] => [color, name]), GC, OTHER]
  const widthOf = (name: string) => 14 + name.length * 5.6 + 10
  // Right-aligned; a graph narrower than the legend gets it from its left edge (cut on the right).
  let x = Math.max(4, right - items.reduce((w, [, name]) => w + widthOf(name), 0))
  return items
    .map(([color, name]) => {
      const item = `<rect x="${x.toFixed(1)}" y="${y - 9}" width="10" height="10" fill="${color}"/><text x="${(x + 14).toFixed(1)}" y="${y}" font-size="10">${esc(name)}</text>`
      x += widthOf(name)
      return item
    })
    .join('')
}

interface Box {
  node: CpuNode
  depth: number
  /** Microseconds before this box along its row. */
  start: number
  micros: number
}

/** The SVG, and the boxes it drew (for tests). */
export function flameGraph(prof: CpuProfile, options: FlameGraphOptions): { svg: string; boxes: Box[] } {
  const width = options.width ?? 1200
  const minWidth = options.minWidth ?? 0.5
  const byId = new Map(prof.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + sampleMicros(prof, i)))
  // Time in each node and below it; idle time is no cost of the program, so it is left out.
  const inclusive = new Map<number, number>()
  const total = (n: CpuNode): number => {
    let t = n.callFrame.functionName === '(idle)' ? 0 : (self.get(n.id) ?? 0)
    for (const c of n.children ?? []) t += total(byId.get(c)!)
    inclusive.set(n.id, t)
    return t
  }
  const root = prof.nodes.find((n) => n.callFrame.functionName === '(root)') ?? prof.nodes[0]!
  const all = total(root)
  const scale = all > 0 ? width / all : 0
  const boxes: Box[] = []
  // Children side by side from `start`, in a stable order (by name), so that two graphs of similar runs look alike.
  const placeChildren = (n: CpuNode, depth: number, start: number) => {
    const children = (n.children ?? []).map((c) => byId.get(c)!).sort((a, b) => frameLabel(a).localeCompare(frameLabel(b)))
    let at = start
    for (const c of children) {
      const micros = inclusive.get(c.id) ?? 0
      if (micros * scale >= minWidth) {
        boxes.push({ node: c, depth, start: at, micros })
        placeChildren(c, depth + 1, at)
      }
      at += micros
    }
  }
  // The root itself is not drawn: its children are the bottom row.
  placeChildren(root, 0, 0)
  const depth = boxes.reduce((d, b) => Math.max(d, b.depth + 1), 0)
  const height = TOP + depth * FRAME_HEIGHT + 40
  const yOf = (d: number) => height - 40 - (d + 1) * FRAME_HEIGHT
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Verdana, sans-serif" font-size="${FONT_SIZE}">`,
    `<rect width="${width}" height="${height}" fill="#fbfbf7"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${esc(options.title)}</text>`,
    `<text x="4" y="${height - 24}" fill="#555">${esc(`${(all / 1000).toFixed(0)} ms sampled (idle left out); width is time in a function and what it called; hover a box for its figures`)}</text>`,
    legend(width - 4, height - 8),
  ]
  for (const b of boxes) {
    const x = b.start * scale
    const w = b.micros * scale
    const label = frameLabel(b.node)
    const share = ((b.micros / all) * 100).toFixed(1)
    const shown = fit(`${b.node.callFrame.functionName || '(anonymous)'} ${where(b.node.callFrame.url).split('/').pop() ?? ''}`.trim(), w)
    out.push(
      `<g><title>${esc(`${label}: ${(b.micros / 1000).toFixed(1)} ms, ${share}%`)}</title>` +
        `<rect x="${x.toFixed(2)}" y="${yOf(b.depth)}" width="${Math.max(0, w - 0.5).toFixed(2)}" height="${FRAME_HEIGHT - 1}" fill="${colorOf(b.node)}" rx="1"/>` +
        (shown ? `<text x="${(x + 3).toFixed(2)}" y="${yOf(b.depth) + FRAME_HEIGHT - 5}">${esc(shown)}</text>` : '') +
        '</g>',
    )
  }
  out.push('</svg>', '')
  return { svg: out.join('\n'), boxes }
}

/** `text` cut to fit `width` pixels (with an ellipsis), or empty when not even a few characters fit. */
function fit(text: string, width: number): string {
  const chars = Math.floor((width - 6) / CHAR_WIDTH)
  if (chars < 3) return ''
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`
}
