// Where a key sits in a JSON file (line and column), so that a config error points at what the user wrote.

/** A 1-based line and column in a text. */
export interface Position {
  readonly line: number
  readonly column: number
}

/** Line and column of a character offset. */
export function positionAt (text: string, offset: number): Position {
  let line = 1
  let start = 0
  const end = Math.min(Math.max(offset, 0), text.length)
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) { line++; start = i + 1 }
  }
  return { line, column: end - start + 1 }
}

/**
 * The position of a `JSON.parse` error in `text`: Node says "at position N" (and, from Node 22, also the line and
 * column); "Unexpected end of JSON input" is the end of the text. Returns the message without the position.
 */
export function syntaxError (text: string, err: Error): { position: Position, reason: string } {
  const m = /\s*(?:in JSON )?at position (\d+)(?: \(line \d+ column \d+\))?/.exec(err.message)
  const reason = err.message.replace(m?.[0] ?? '', '').replace(/ in JSON$/, '')
  return { position: positionAt(text, m === null ? text.length : Number(m[1])), reason }
}

const WS = /[\s]/

/**
 * The offsets of every key and array element of a JSON text (valid JSON: parse it first), by JSON path
 * (segments joined with '.'; the root is ''). An object member points at its key, an element at its value.
 */
function scan (text: string): Map<string, number> {
  const at = new Map<string, number>()
  let i = 0
  const skip = (): void => { while (i < text.length && WS.test(text[i]!)) i++ }
  const string = (): string => {
    const start = i
    i++ // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
    i++
    return JSON.parse(text.slice(start, i)) as string
  }
  const value = (path: string): void => {
    skip()
    const c = text[i]
    if (c === '{') {
      i++
      skip()
      while (i < text.length && text[i] !== '}') {
        skip()
        const keyAt = i
        const key = string()
        const child = path === '' ? key : `${path}.${key}`
        at.set(child, keyAt)
        skip()
        i++ // ':'
        value(child)
        skip()
        if (text[i] === ',') i++
        skip()
      }
      i++
    } else if (c === '[') {
      i++
      skip()
      let n = 0
      while (i < text.length && text[i] !== ']') {
        skip()
        const child = path === '' ? String(n) : `${path}.${n}`
        at.set(child, i)
        value(child)
        n++
        skip()
        if (text[i] === ',') i++
        skip()
      }
      i++
    } else if (c === '"') {
      string()
    } else {
      while (i < text.length && !/[,\]}\s]/.test(text[i]!)) i++
    }
  }
  at.set('', 0)
  value('')
  return at
}

/** Finds config keys in one JSON file's text. */
export class JsonPositions {
  readonly #offsets: Map<string, number>
  constructor (readonly text: string) {
    this.#offsets = scan(text)
  }

  /**
   * Where `field` (a dot path, e.g. `plugins.presence.options.online.1.namespace`) is written; when it is not in the
   * file (a missing key, a default), its nearest written ancestor. `exact` says which. Undefined for the root.
   */
  find (field: string): { position: Position, field: string, exact: boolean } | undefined {
    let path = field
    for (;;) {
      const offset = this.#offsets.get(path)
      if (offset !== undefined && path !== '') return { position: positionAt(this.text, offset), field: path, exact: path === field }
      if (path === '') return undefined
      const dot = path.lastIndexOf('.')
      path = dot < 0 ? '' : path.slice(0, dot)
    }
  }

  /** Whether the file itself writes `field` (not a default, not the environment). */
  has (field: string): boolean {
    return this.#offsets.has(field)
  }
}
