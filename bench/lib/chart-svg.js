// SVG charts for bench/README.md, drawn by hand so that the bench needs no charting dependency: a line chart
// with a log-scale x axis (connections) and a linear y axis from 0, and a row of bar panels. The output is a
// pure function of the input: coordinates are rounded to 0.1 px and nothing reads the clock, so the same
// figures give the same SVG (and, through the same chromium, the same PNG).

export const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif'
const INK = '#222'
const GRID = '#e4e4e4'

/** One line chart's frame: the plot area inside the title, axis labels, caption and legend. */
const LINE = { width: 760, height: 440, left: 72, right: 186, top: 46, bottom: 86 }
/** A bar chart's frame, for each of its panels. */
const BAR = { width: 760, height: 340, left: 64, right: 20, top: 62, bottom: 70, gap: 70 }

export const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const r = (n) => Math.round(n * 10) / 10
const isNum = (v) => typeof v === 'number' && Number.isFinite(v)

/**
 * Ticks from 0 to at least `max` in steps of 1, 2, 2.5 or 5 × 10^k, about `count` of them.
 * @returns {{ ticks: number[], step: number }}
 */
export function niceTicks (max, count = 5) {
  const top = isNum(max) && max > 0 ? max : 1
  const raw = top / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9))
  const n = Math.ceil(top / step - 1e-9)
  return { ticks: Array.from({ length: n + 1 }, (_, i) => Number((i * step).toPrecision(12))), step }
}

/** A tick label with as many decimals as the step needs (en-US digit grouping, as the bench's tables). */
export function tickLabel (v, step) {
  let decimals = 0
  while (decimals < 6 && Math.abs(Number(step.toFixed(decimals)) - step) > step * 1e-9) decimals++
  return v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
}

const text = (x, y, s, attrs = '') => `<text x="${r(x)}" y="${r(y)}"${attrs ? ' ' + attrs : ''}>${esc(s)}</text>`

function marker (shape, x, y, color, hollow) {
  const fill = hollow ? '#fff' : color
  const paint = `fill="${fill}" stroke="${color}" stroke-width="1.5"`
  if (shape === 'square') return `<rect x="${r(x - 3.6)}" y="${r(y - 3.6)}" width="7.2" height="7.2" ${paint}/>`
  if (shape === 'triangle') return `<path d="M${r(x)} ${r(y - 5)}L${r(x + 4.6)} ${r(y + 3.2)}L${r(x - 4.6)} ${r(y + 3.2)}Z" ${paint}/>`
  if (shape === 'diamond') return `<path d="M${r(x)} ${r(y - 5)}L${r(x + 4.4)} ${r(y)}L${r(x)} ${r(y + 5)}L${r(x - 4.4)} ${r(y)}Z" ${paint}/>`
  return `<circle cx="${r(x)}" cy="${r(y)}" r="4" ${paint}/>`
}

/** Runs of consecutive points that have a value: a line stops where its series has none. */
function segments (points) {
  const out = [[]]
  for (const p of points) {
    if (isNum(p.y)) out[out.length - 1].push(p)
    else if (out[out.length - 1].length > 0) out.push([])
  }
  return out.filter((s) => s.length > 0)
}

function svgOpen (width, height) {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" font-size="12" fill="${INK}">` +
    `<rect width="${width}" height="${height}" fill="#fff"/>`
}

/**
 * A line chart against a log-scale x axis with a tick at each of `xValues`.
 * @param {object} spec
 * @param {string} spec.title
 * @param {string} spec.xTitle
 * @param {string} spec.yTitle
 * @param {string} spec.caption one line under the chart (commit, date, load)
 * @param {number[]} spec.xValues the x positions that get a tick (the sizes measured)
 * @param {{ label: string, color: string, marker: string, dashed?: boolean, points: { x: number, y: number|null, lo?: number|null, hi?: number|null, stopped?: boolean }[] }[]} spec.series
 *   `lo`/`hi`: a whisker from lo to hi (min..max over repetitions) behind the point; `stopped`: the variant could not
 *   reach this x (labelled at the point before)
 * @returns {string} the SVG document
 */
export function lineChart ({ title, xTitle, yTitle, caption, xValues, series }) {
  const { width, height, left, right, top, bottom } = LINE
  const plotW = width - left - right
  const plotH = height - top - bottom
  const xs = [...new Set(xValues)].filter((v) => v > 0).sort((a, b) => a - b)
  const lo = Math.log10(xs[0] ?? 1) - 0.12
  const hi = Math.log10(xs.at(-1) ?? 10) + 0.12
  const sx = (v) => left + (Math.log10(v) - lo) / (hi - lo) * plotW
  const values = series.flatMap((s) => s.points.flatMap((p) => [p.y, p.hi])).filter(isNum)
  const { ticks, step } = niceTicks(Math.max(0, ...values) * 1.05) // headroom for the top marker and whisker
  const yMax = ticks.at(-1)
  const sy = (v) => top + plotH - v / yMax * plotH

  const out = [svgOpen(width, height)]
  out.push(text(width / 2, 26, title, 'font-size="16" font-weight="bold" text-anchor="middle"'))
  for (const t of ticks) {
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${r(sy(t))}" y2="${r(sy(t))}" stroke="${GRID}"/>`)
    out.push(text(left - 8, sy(t) + 4, tickLabel(t, step), 'text-anchor="end"'))
  }
  for (const x of xs) {
    out.push(`<line x1="${r(sx(x))}" x2="${r(sx(x))}" y1="${top}" y2="${top + plotH}" stroke="${GRID}"/>`)
    out.push(text(sx(x), top + plotH + 18, x.toLocaleString('en-US'), 'text-anchor="middle"'))
  }
  out.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="${INK}"/>`)
  out.push(text(left + plotW / 2, top + plotH + 40, xTitle, 'text-anchor="middle" font-size="13"'))
  out.push(text(0, 0, yTitle, `text-anchor="middle" font-size="13" transform="translate(18 ${r(top + plotH / 2)}) rotate(-90)"`))
  if (values.length === 0) out.push(text(left + plotW / 2, top + plotH / 2, 'no data', 'text-anchor="middle" fill="#888"'))

  for (const s of series) {
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : ''
    for (const p of s.points) {
      if (!isNum(p.y) || !isNum(p.lo) || !isNum(p.hi)) continue
      const x = r(sx(p.x))
      out.push(`<path d="M${x} ${r(sy(p.lo))}V${r(sy(p.hi))}M${r(x - 4)} ${r(sy(p.lo))}H${r(x + 4)}M${r(x - 4)} ${r(sy(p.hi))}H${r(x + 4)}" stroke="${s.color}" stroke-opacity="0.55"/>`)
    }
    for (const seg of segments(s.points)) {
      if (seg.length > 1) out.push(`<polyline points="${seg.map((p) => `${r(sx(p.x))},${r(sy(p.y))}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`)
      for (const p of seg) out.push(marker(s.marker, sx(p.x), sy(p.y), s.color, s.dashed))
    }
    // Where a variant could not go on, say so at its last point (once per variant: not on its dashed twin).
    s.points.forEach((p, i) => {
      const before = s.points[i - 1]
      if (p.stopped && !s.dashed && before !== undefined && isNum(before.y)) out.push(text(sx(before.x) + 8, sy(before.y) - 8, 'stopped', `font-size="11" fill="${s.color}"`))
    })
  }

  const lx = left + plotW + 18
  series.forEach((s, i) => {
    const y = top + 10 + i * 22
    out.push(`<line x1="${lx}" x2="${lx + 30}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`)
    out.push(marker(s.marker, lx + 15, y, s.color, s.dashed))
    out.push(text(lx + 38, y + 4, s.label))
  })
  out.push(text(8, height - 10, caption, 'font-size="11" fill="#555"'))
  out.push('</svg>')
  return out.join('\n') + '\n'
}

/**
 * Panels of bars side by side, one bar per label, the value written above each bar.
 * @param {object} spec
 * @param {string} spec.title
 * @param {string} spec.caption
 * @param {{ title: string, color: string, decimals: number, bars: { label: string, value: number|null }[] }[]} spec.panels
 * @returns {string} the SVG document
 */
export function barPanels ({ title, caption, panels }) {
  const { width, height, left, right, top, bottom, gap } = BAR
  const panelW = (width - left - right - gap * (panels.length - 1)) / panels.length
  const plotH = height - top - bottom
  const out = [svgOpen(width, height)]
  out.push(text(width / 2, 26, title, 'font-size="16" font-weight="bold" text-anchor="middle"'))
  panels.forEach((panel, i) => {
    const x0 = left + i * (panelW + gap)
    const { ticks, step } = niceTicks(Math.max(0, ...panel.bars.map((b) => b.value).filter(isNum)) * 1.08, 4) // room for the labels
    const sy = (v) => top + plotH - v / ticks.at(-1) * plotH
    out.push(text(x0 + panelW / 2, top - 12, panel.title, 'font-size="13" text-anchor="middle"'))
    for (const t of ticks) {
      out.push(`<line x1="${r(x0)}" x2="${r(x0 + panelW)}" y1="${r(sy(t))}" y2="${r(sy(t))}" stroke="${GRID}"/>`)
      out.push(text(x0 - 8, sy(t) + 4, tickLabel(t, step), 'text-anchor="end"'))
    }
    const slot = panelW / panel.bars.length
    panel.bars.forEach((b, j) => {
      const cx = x0 + slot * (j + 0.5)
      out.push(text(cx, top + plotH + 18, b.label, 'text-anchor="middle"'))
      if (!isNum(b.value)) {
        out.push(text(cx, top + plotH - 6, '-', 'text-anchor="middle" fill="#888"'))
        return
      }
      const bw = Math.min(56, slot * 0.6)
      out.push(`<rect x="${r(cx - bw / 2)}" y="${r(sy(b.value))}" width="${r(bw)}" height="${r(top + plotH - sy(b.value))}" fill="${panel.color}"/>`)
      out.push(text(cx, sy(b.value) - 5, b.value.toLocaleString('en-US', { minimumFractionDigits: panel.decimals, maximumFractionDigits: panel.decimals }), 'text-anchor="middle" font-size="11"'))
    })
    out.push(`<line x1="${r(x0)}" x2="${r(x0 + panelW)}" y1="${top + plotH}" y2="${top + plotH}" stroke="${INK}"/>`)
    out.push(`<line x1="${r(x0)}" x2="${r(x0)}" y1="${top}" y2="${top + plotH}" stroke="${INK}"/>`)
  })
  out.push(text(8, height - 10, caption, 'font-size="11" fill="#555"'))
  out.push('</svg>')
  return out.join('\n') + '\n'
}
