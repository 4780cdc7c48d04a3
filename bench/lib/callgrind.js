// Reading a valgrind callgrind run of a server from outside: zero and dump its counters, and sum the instructions
// of its last dump (the profile scripts in bench/profile/).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

/**
 * `callgrind_control <flag> <pid>` (`-z` zeroes the counters, `-d` dumps them); throws if it fails. vgdb names its
 * pipes after USER and HOST, and both sides must agree: they are read from the target's own environment (the bench
 * starts the product's server with HOST=127.0.0.1).
 */
export function callgrindControl (pid, flag) {
  const r = spawnSync('callgrind_control', [flag, String(pid)], { encoding: 'utf8', env: vgdbEnv(pid) })
  // It exits 0 when it could not reach the process, too: only "OK." says it did.
  if (r.status !== 0 || !/\bOK\./.test(r.stdout)) throw new Error(`callgrind_control ${flag} failed: ${r.stdout}${r.stderr}`)
}

/** This process's environment with the USER and HOST of process `pid` (from /proc/<pid>/environ). */
function vgdbEnv (pid) {
  const env = { ...process.env }
  const target = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')
  for (const name of ['USER', 'HOST']) {
    const entry = target.find((e) => e.startsWith(`${name}=`))
    if (entry === undefined) delete env[name]
    else env[name] = entry.slice(name.length + 1)
  }
  return env
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
