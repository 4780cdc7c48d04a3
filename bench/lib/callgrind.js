// Reading a valgrind callgrind run of a server from outside: zero and dump its counters, and sum the instructions
// of its last dump (the profile scripts in bench/profile/).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

/**
 * `callgrind_control <flag> <pid>` (`-z` zeroes the counters, `-d` dumps them); throws if it fails. `host`: the
 * HOST the valgrind process has in its environment (vgdb names its pipes after USER and HOST, and both sides must
 * agree): the product's server gets HOST=127.0.0.1 from the bench.
 */
export function callgrindControl (pid, flag, host = process.env.HOST) {
  const env = { ...process.env }
  if (host === undefined) delete env.HOST
  else env.HOST = host
  const r = spawnSync('callgrind_control', [flag, String(pid)], { encoding: 'utf8', env })
  // It exits 0 when it could not reach the process, too: only "OK." says it did.
  if (r.status !== 0 || !/\bOK\./.test(r.stdout)) throw new Error(`callgrind_control ${flag} failed: ${r.stdout}${r.stderr}`)
}

/**
 * Instructions of the last dump of `pid` in `dir` (files `cg.<pid>.out.<part>-<thread>`, from
 * `--callgrind-out-file=<dir>/cg.%p.out --separate-threads=yes`): the main thread's (the event loop) and all
 * threads' (+ V8's compiler and GC helpers).
 */
export function dumpedInstructions (dir, pid) {
  const files = fs.readdirSync(dir).filter((f) => f.startsWith(`cg.${pid}.out.`))
  if (files.length === 0) throw new Error('no callgrind dump')
  const partOf = (f) => Number(/\.out\.(\d+)/.exec(f)[1])
  const part = Math.max(...files.map(partOf))
  let main = 0
  let all = 0
  for (const f of files.filter((f) => partOf(f) === part)) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8')
    const ir = Number(/^(?:summary|totals): (\d+)/m.exec(text)[1])
    all += ir
    if (/^thread: 1$/m.test(text) || f.endsWith('-01')) main += ir
  }
  return { main, all }
}
