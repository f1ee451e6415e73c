// The benchmark (`make bench`): latchkey against fixed references, with wrk
// on loopback. Starts, each on a free port:
//   - latchkey `serve --seed` on SQLite (its own data dir);
//   - latchkey `serve --seed` on a throwaway PostgreSQL (scripts/pg-test-cluster
//     --durable: fsync on, as PostgreSQL is by default, so that a write
//     answered is on disk);
//   - nginx serving latchkey's exact response bytes of `POST /devices/list`
//     as a static file: the ceiling for that response on this machine;
//   - @seamapi/fake-seam-connect --seed (npm), Seam's own fake.
// Both latchkeys run with --action-delay-ms 0, so `locks/unlock_door` with
// sync:true measures the API's own path to a completed attempt (each answer
// must say "success"); their request logs go to files.
//
// Every row is wrk -t1 -cCONNECTIONS -dSECONDS with bench/wrk.lua (the
// request, and a summary line), run once per round; the rows alternate within
// a round (A B C D, A B C D, ...), the reads first, then the writes (so the
// writes do not grow the tables under the reads), and the table holds the
// medians. Server CPU per request: utime+stime (+ those of reaped children)
// of the server's processes, from /proc, before and after the run, over the
// requests wrk counted; for PostgreSQL the cluster's processes are counted
// with latchkey's. A run with an answer of 400 or above, a socket error, a
// timeout or a body without the expected text makes its row FAILED, and the
// exit status 1. The machine's CPU that neither the server nor wrk used
// during a run is reported too: on a shared machine, that is the noise.
//
// Prints the table (markdown) and writes the raw wrk outputs and the table
// to bench/results/bench-<date>.txt.
//   BENCH_SECONDS (10)  seconds of one run
//   BENCH_ROUNDS (3)    rounds
//   BENCH_WARMUP (2)    seconds of a warm-up run of each row before round 1 (0: none)
//   BENCH_CONNECTIONS (64)
//   LATCHKEY_BIN        the latchkey to measure (build-bench/latchkey, a Release build)
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { SEED, freePort, sleep } from '../tests/api/harness.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '..')

function setting(name, fallback, min) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}=${raw}: a whole number, at least ${min}`)
  return n
}
const SECONDS = setting('BENCH_SECONDS', 10, 1)
const ROUNDS = setting('BENCH_ROUNDS', 3, 1)
const WARMUP = setting('BENCH_WARMUP', 2, 0)
const CONNECTIONS = setting('BENCH_CONNECTIONS', 64, 1)
const PAUSE_MS = 1000 // idle between runs: the last run's connections close
const WRK_TIMEOUT = '30s' // a slow answer counts in the latencies instead of as a timeout

const BIN = path.resolve(ROOT, process.env.LATCHKEY_BIN || 'build-bench/latchkey')
const LUA = path.join(HERE, 'wrk.lua')
const PG_CLUSTER = path.join(ROOT, 'scripts/pg-test-cluster')
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p))
const FAKE_DIR = path.join(ROOT, 'node_modules/@seamapi/fake-seam-connect')
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }))

const TOKEN = SEED.cst1
const API_KEY = SEED.apiKey1
const LATCHKEYS = ['sqlite', 'postgres']

// The requests, and the contenders that answer each (latchkey's by default).
// body: sent as JSON; with unique, %s is replaced by a key of its own per
// request. expect: text every answer's body must hold.
const REQUESTS = [
  { label: 'POST /devices/list (token)', method: 'POST', path: '/devices/list', auth: TOKEN, body: '{}',
    on: [...LATCHKEYS, 'nginx', 'fake'], ratios: true },
  { label: 'GET /client_sessions/get (token)', method: 'GET', path: '/client_sessions/get', auth: TOKEN },
  { label: 'POST /devices/get (token)', method: 'POST', path: '/devices/get', auth: TOKEN,
    body: '{"device_id":"august_device_1"}' },
  { label: 'GET /devices/list?user_identifier_key (API key)', method: 'GET',
    path: `/devices/list?user_identifier_key=${SEED.johnKey}`, auth: API_KEY },
  { label: 'POST /client_sessions/create (API key, a new user each)', method: 'POST',
    path: '/client_sessions/create', auth: API_KEY, body: '{"user_identifier_key":"%s"}', unique: true, writes: true },
  { label: 'POST /locks/unlock_door sync:true (token)', method: 'POST', path: '/locks/unlock_door', auth: TOKEN,
    body: '{"device_id":"august_device_1","sync":true}', expect: '"status":"success"', writes: true },
]

// ---- what was started, stopped however the run ends ----

const live = new Set() // child processes still running
const cleanups = [] // run last-in first-out, once
function cleanUp() {
  // Each child with its own children (nginx's workers outlive a killed master).
  for (const proc of live) {
    let pids = [proc.pid]
    try {
      pids = [...processTree([proc.pid])]
    } catch {} // exited meanwhile
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
  }
  while (cleanups.length) {
    try {
      cleanups.pop()()
    } catch (err) {
      console.error(`bench: cleaning up: ${err.message}`)
    }
  }
}
process.on('exit', cleanUp)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`bench: ${signal}: stopping everything`)
    process.exit(130)
  })
}

/** Spawns a child whose output goes to logFile; tracked until it exits. */
function start(cmd, args, { env = process.env, logFile } = {}) {
  const log = fs.openSync(logFile, 'a')
  const proc = spawn(cmd, args, { env, stdio: ['ignore', log, log] })
  fs.closeSync(log)
  live.add(proc)
  proc.exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => (live.delete(proc), resolve({ code, signal })))
    proc.on('error', (error) => (live.delete(proc), resolve({ error })))
  })
  return proc
}

const isRunning = (proc) => live.has(proc)

/** SIGTERM, then SIGKILL after 10 s. */
async function stop(proc) {
  if (!isRunning(proc)) return
  proc.kill('SIGTERM')
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
  await proc.exited
  clearTimeout(timer)
}

/** Polls until probe() resolves true; fails when proc exits or after 60 s. */
async function waitUntil(what, proc, logFile, probe) {
  const deadline = Date.now() + 60_000
  for (;;) {
    if (!isRunning(proc)) throw new Error(`${what} exited before it answered:\n${tail(logFile)}`)
    try {
      if (await probe()) return
    } catch {}
    if (Date.now() > deadline) throw new Error(`${what} did not answer within 60 s:\n${tail(logFile)}`)
    await sleep(100)
  }
}

const tail = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').slice(-3000) : '')

// ---- /proc ----

/** ppid and CPU ticks (utime, stime, cutime, cstime) of a process; null when it is gone. */
function statOf(pid) {
  let stat
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // f[0] is field 3, state
  return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) }
}

/** statOf every process, by pid. */
function processTable() {
  const table = new Map()
  for (const name of fs.readdirSync('/proc')) {
    const stat = /^\d+$/.test(name) && statOf(name)
    if (stat) table.set(Number(name), stat)
  }
  return table
}

/** The pids of roots and of all their descendants. */
function processTree(roots, table = processTable()) {
  const tree = new Set(roots.filter((pid) => table.has(pid)))
  if (tree.size !== roots.length) throw new Error(`a server process is gone (${roots.join(', ')})`)
  for (let grew = true; grew; ) {
    grew = false
    for (const [pid, { ppid }] of table) if (!tree.has(pid) && tree.has(ppid)) grew = tree.add(pid)
  }
  return tree
}

/**
 * CPU seconds the processes of roots and their descendants have used,
 * reaped children included: what a process that exits in between used is
 * then in its parent's cutime/cstime, so a difference of two samples is the
 * CPU used between them.
 */
function cpuSeconds(roots) {
  const table = processTable()
  let ticks = 0
  for (const pid of processTree(roots, table)) ticks += table.get(pid).ticks
  return ticks / CLK_TCK
}

/** CPU seconds the whole machine has been busy (/proc/stat: all but idle and iowait). */
function machineBusySeconds() {
  const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/)
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number)
  return (user + nice + system + irq + softirq + steal) / CLK_TCK
}

/** CPU seconds of this process and its reaped children: wrk's, once it has exited. */
const ownCpuSeconds = () => statOf(process.pid).ticks / CLK_TCK

/** VmHWM (peak resident set) in KiB, summed over the processes of roots and their descendants. */
function peakRssKiB(roots) {
  let kib = 0
  for (const pid of processTree(roots)) {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    kib += hwm ? Number(hwm[1]) : 0
  }
  return kib
}

// ---- the contenders ----

/** latchkey serve --seed; database: --database URL and its environment, or none (SQLite). */
async function startLatchkey(key, name, dir, database) {
  const dataDir = path.join(dir, `latchkey-${key}`)
  fs.mkdirSync(dataDir)
  const port = await freePort()
  const logFile = path.join(dir, `latchkey-${key}.log`)
  const args = ['serve', '--seed', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir,
    '--action-delay-ms', '0']
  if (database) args.push('--database', database.url)
  const env = { ...process.env, ...database?.env }
  for (const k of Object.keys(env)) if (k.startsWith('LATCHKEY_')) delete env[k] // flags' twins
  const proc = start(BIN, args, { env, logFile })
  const url = `http://127.0.0.1:${port}`
  await waitUntil(name, proc, logFile, async () => (await fetch(`${url}/health`)).status === 200)
  return { key, name, url, proc, dataDir, roots: () => [proc.pid] }
}

/** A throwaway cluster (stopped with this process at the latest: --owner), a database, latchkey on it. */
async function startLatchkeyOnPostgres(dir) {
  const cluster = path.join(dir, 'pg')
  execFileSync(PG_CLUSTER, ['start', cluster, '--owner', String(process.pid), '--durable'], { stdio: ['ignore', 'ignore', 'inherit'] })
  cleanups.push(() => execFileSync(PG_CLUSTER, ['stop', cluster], { stdio: 'inherit' }))
  execFileSync(PG_CLUSTER, ['createdb', cluster, 'bench'], { stdio: ['ignore', 'ignore', 'inherit'] })
  const port = fs.readFileSync(path.join(cluster, 'port'), 'utf8').trim()
  const password = fs.readFileSync(path.join(cluster, 'password'), 'utf8').trim()
  const postmaster = Number(fs.readFileSync(path.join(cluster, 'data/postmaster.pid'), 'utf8').split('\n')[0])
  const latchkey = await startLatchkey('postgres', 'latchkey PostgreSQL', dir, {
    url: `postgres://latchkey@127.0.0.1:${port}/bench`,
    env: { PGPASSWORD: password },
  })
  const version = execFileSync(PG_CLUSTER, ['psql', cluster, 'bench', '-c', 'SHOW server_version'], { encoding: 'utf8' })
  return {
    ...latchkey,
    roots: () => [latchkey.proc.pid, postmaster],
    version: `PostgreSQL ${version.trim()}`,
    pg: { port, password },
  }
}

/**
 * PostgreSQL alone doing what one client_sessions/create asks of it
 * (bench/pg_create.sql), with pgbench: as many clients as wrk has
 * connections, prepared statements, for `seconds`; its transactions a
 * second, or null without pgbench.
 */
function pgbenchCreates({ port, password }, seconds) {
  if (!onPath('pgbench')) return null
  const out = execFileSync('pgbench', ['-h', '127.0.0.1', '-p', port, '-U', 'latchkey', '-n', '-M', 'prepared',
    '-c', String(CONNECTIONS), '-j', '1', '-T', String(seconds), '-f', path.join(HERE, 'pg_create.sql'), 'bench'],
  { encoding: 'utf8', env: { ...process.env, PGPASSWORD: password }, stdio: ['ignore', 'pipe', 'pipe'] })
  const tps = /tps = ([0-9.]+)/.exec(out)
  return tps ? Number(tps[1]) : null
}

async function startFake(dir) {
  const pkg = JSON.parse(fs.readFileSync(path.join(FAKE_DIR, 'package.json'), 'utf8'))
  const port = await freePort()
  const logFile = path.join(dir, 'fake-seam-connect.log')
  const proc = start(process.execPath, [path.join(FAKE_DIR, pkg.bin), '--seed'], {
    env: { ...process.env, PORT: String(port) },
    logFile,
  })
  const url = `http://127.0.0.1:${port}`
  const name = 'fake-seam-connect'
  await waitUntil(name, proc, logFile, async () => (await send(url, REQUESTS[0])).status === 200)
  return { key: 'fake', name, url, proc, roots: () => [proc.pid], version: `${pkg.name} ${pkg.version}` }
}

/** nginx in the foreground with a prefix dir of its own, answering any method on path with body. */
async function startNginx(dir, urlPath, body, contentType) {
  const prefix = path.join(dir, 'nginx')
  const file = path.join(prefix, 'www', urlPath)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, body)
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
  for (const t of temp) fs.mkdirSync(path.join(prefix, t))
  const port = await freePort()
  fs.writeFileSync(
    path.join(prefix, 'nginx.conf'),
    [
      process.getuid?.() === 0 ? 'user root;' : '',
      'worker_processes auto;',
      `pid ${prefix}/nginx.pid;`,
      `error_log ${prefix}/error.log;`,
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      ...temp.map((t) => `  ${t}_temp_path ${prefix}/${t};`),
      '  sendfile on;',
      '  tcp_nopush on;',
      '  keepalive_requests 1000000;',
      '  open_file_cache max=16;',
      '  types { }',
      `  default_type "${contentType}";`,
      '  server {',
      `    listen 127.0.0.1:${port};`,
      `    root ${prefix}/www;`,
      // The static module answers POST with 405; serve the file instead.
      `    location = ${urlPath} { error_page 405 =200 $uri; }`,
      '  }',
      '}',
    ].join('\n'),
  )
  const args = ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'error.log')]
  execFileSync(NGINX, ['-t', '-q', ...args], { stdio: ['ignore', 'ignore', 'inherit'] })
  const logFile = path.join(prefix, 'stderr.log')
  const proc = start(NGINX, [...args, '-g', 'daemon off;'], { logFile })
  const url = `http://127.0.0.1:${port}`
  const name = 'nginx static file'
  await waitUntil(name, proc, logFile, async () => (await fetch(`${url}${urlPath}`)).status === 200)
  // nginx -v writes its version to stderr.
  const version = spawnSync(NGINX, ['-v'], { encoding: 'utf8' }).stderr.replace('nginx version: ', '').trim()
  return { key: 'nginx', name, url, proc, roots: () => [proc.pid], version }
}

// ---- requests ----

/** One request as wrk sends it; resolves { status, headers, bytes }. */
async function send(url, request, uniqueKey = 'bench_preflight') {
  const headers = { Authorization: `Bearer ${request.auth}` }
  let body
  if (request.body) {
    headers['Content-Type'] = 'application/json'
    body = request.unique ? request.body.replace('%s', uniqueKey) : request.body
  }
  const res = await fetch(`${url}${request.path}`, { method: request.method, headers, body })
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) }
}

/** Checks a row's request once before measuring it: 200, and the expected text. */
async function preflight(row) {
  const { status, bytes } = await send(row.contender.url, row.request, `bench_preflight_${row.contender.key}`)
  const what = `${row.contender.name}, ${row.request.label}`
  if (status !== 200) throw new Error(`${what}: ${status} ${bytes.toString('utf8', 0, 500)}`)
  if (row.request.expect && !bytes.includes(row.request.expect)) {
    throw new Error(`${what}: no ${row.request.expect} in ${bytes.toString('utf8', 0, 500)}`)
  }
  row.bodyBytes = bytes.length
}

let uniqueRuns = 0

/** One wrk run of a row: its summary, the server CPU it cost, and wrk's output. */
async function measure(row, seconds) {
  const { request, contender } = row
  if (!isRunning(contender.proc)) throw new Error(`${contender.name} is no longer running`)
  const env = {
    ...process.env,
    BENCH_METHOD: request.method,
    BENCH_AUTH: request.auth,
    BENCH_BODY: request.body ?? '',
    BENCH_UNIQUE: request.unique ? `bench${process.pid}_${contender.key}_${++uniqueRuns}` : '',
    BENCH_EXPECT: request.expect ?? '',
  }
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '--timeout', WRK_TIMEOUT, '-s', LUA,
    `${contender.url}${request.path}`]
  const cpuBefore = cpuSeconds(contender.roots())
  const busyBefore = machineBusySeconds()
  const ownBefore = ownCpuSeconds()
  const output = await new Promise((resolve, reject) => {
    const proc = spawn('wrk', args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    live.add(proc)
    let out = ''
    proc.stdout.on('data', (d) => (out += d))
    proc.stderr.on('data', (d) => (out += d))
    proc.on('error', reject)
    proc.on('close', (code) => {
      live.delete(proc)
      code === 0 ? resolve(out) : reject(new Error(`wrk exited with ${code}:\n${out}`))
    })
  })
  const busy = machineBusySeconds() - busyBefore
  const own = ownCpuSeconds() - ownBefore
  const cpu = cpuSeconds(contender.roots()) - cpuBefore
  const line = /^BENCH_JSON (.*)$/m.exec(output)
  if (!line) throw new Error(`no summary line from wrk:\n${output}`)
  const s = JSON.parse(line[1])
  const problems = [
    [s.status, 'answers of 400 or above'],
    [s.connect, 'connect errors'],
    [s.read, 'read errors'],
    [s.write, 'write errors'],
    [s.timeout, 'timeouts'],
    [s.mismatched, `bodies without ${request.expect}`],
  ]
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}`)
  if (s.requests === 0) problems.push('no request answered')
  return {
    requests: s.requests,
    rps: s.requests / (s.duration_us / 1e6),
    p50: s.p50_us / 1000,
    p99: s.p99_us / 1000,
    cpuUs: (cpu * 1e6) / s.requests,
    cpu,
    busy,
    others: busy - cpu - own, // neither the server nor wrk (nor this script)
    own,
    seconds: s.duration_us / 1e6,
    problems,
    output,
  }
}

// ---- figures ----

function median(values) {
  const v = [...values].sort((a, b) => a - b)
  const mid = Math.floor(v.length / 2)
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

const int = (n) => Math.round(n).toLocaleString('en-US')
const ms = (n) => (n < 10 ? n.toFixed(2) : n.toFixed(1))
const us = (n) => (n < 10 ? n.toFixed(1) : int(n))
const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`
const fileMiB = (file) => (fs.existsSync(file) ? mib(fs.statSync(file).size / 1024) : 'none')
const cores = (seconds, run) => (seconds / run.seconds).toFixed(2)
const kilo = (n) => `${(n / 1000).toFixed(1)}k`

function summarise(row) {
  const pick = (k) => median(row.runs.map((r) => r[k]))
  const failures = row.runs.flatMap((r, i) => r.problems.map((p) => `round ${i + 1}: ${p}`))
  return { rps: pick('rps'), p50: pick('p50'), p99: pick('p99'), cpuUs: pick('cpuUs'), failures }
}

const DISTURBED = 0.25 // cores other processes used in a run, from which its figure is marked
const disturbed = (run) => run.others / run.seconds > DISTURBED

function table(rows) {
  const byKey = (key) => rows.find((r) => r.request.ratios && r.contender.key === key)
  const nginx = summarise(byKey('nginx'))
  const fake = summarise(byKey('fake'))
  const lines = [
    '| request | server | req/s | p50 ms | p99 ms | server CPU µs/req | × nginx | × fake | req/s by round | body bytes |',
    '|---|---|--:|--:|--:|--:|--:|--:|---|--:|',
  ]
  for (const row of rows) {
    const s = summarise(row)
    const ratio = (ref) => (row.request.ratios && !s.failures.length ? (s.rps / ref.rps).toFixed(2) : '')
    const rps = s.failures.length ? `FAILED: ${s.failures.join('; ')}` : int(s.rps)
    lines.push(
      `| ${row.request.label} | ${row.contender.name} | ${rps} | ${ms(s.p50)} | ${ms(s.p99)} | ${us(s.cpuUs)} | ` +
        `${ratio(nginx)} | ${ratio(fake)} | ${row.runs.map((r) => kilo(r.rps) + (disturbed(r) ? '*' : '')).join(' / ')} | ${row.bodyBytes} |`,
    )
  }
  return lines.join('\n')
}

/** How much CPU processes other than the server and wrk took during the runs: noise. */
function otherLoad(rows) {
  const runs = rows.flatMap((row) => row.runs.map((run, i) => ({ row, round: i + 1, load: run.others / run.seconds })))
  const worst = runs.reduce((a, b) => (b.load > a.load ? b : a))
  const mean = runs.reduce((sum, r) => sum + r.load, 0) / runs.length
  return `Other processes (neither the server nor wrk) used ${mean.toFixed(2)} cores on average during the runs, ` +
    `at most ${worst.load.toFixed(2)} (${worst.row.request.label}, ${worst.row.contender.name}, round ${worst.round}); ` +
    `* marks a round in which they used more than ${DISTURBED}.`
}

function gitCommit() {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { cwd: ROOT, encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}

// ---- the run ----

const onPath = (name) =>
  (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, name)))

/** One run's part of the results file: which, the CPU, and wrk's output. */
function section(title, row, run) {
  return [
    `### ${title} · ${row.request.label} · ${row.contender.name}`,
    run.output.trimEnd(),
    `server CPU: ${run.cpu.toFixed(2)} s, ${us(run.cpuUs)} µs per request; the machine was busy ` +
      `${cores(run.busy, run)} of ${os.cpus().length} cores: the server ${cores(run.cpu, run)}, ` +
      `wrk ${cores(run.own, run)}, other processes ${cores(run.others, run)}` +
      (run.problems.length ? `; INVALID: ${run.problems.join(', ')}` : ''),
    '',
    '',
  ].join('\n')
}

async function main() {
  const t0 = Date.now()
  for (const [what, ok] of [
    [`${BIN} (make build-bench builds it)`, fs.existsSync(BIN)],
    ['wrk (scripts/bootstrap installs it)', onPath('wrk')],
    ['nginx (scripts/bootstrap installs nginx-light)', NGINX],
    ['@seamapi/fake-seam-connect (scripts/bootstrap: npm ci)', fs.existsSync(FAKE_DIR)],
  ]) {
    if (!ok) throw new Error(`missing: ${what}`)
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-'))
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }))

  console.log('bench: starting latchkey (SQLite, PostgreSQL), fake-seam-connect')
  const [sqlite, postgres, fake] = await Promise.all([
    startLatchkey('sqlite', 'latchkey SQLite', dir),
    startLatchkeyOnPostgres(dir),
    startFake(dir),
  ])
  // nginx serves the very bytes (and Content-Type) latchkey answers.
  const list = REQUESTS[0]
  const reference = await send(sqlite.url, list)
  if (reference.status !== 200) throw new Error(`latchkey SQLite, ${list.label}: ${reference.status}`)
  const contentType = reference.headers.get('content-type')
  const nginx = await startNginx(dir, list.path, reference.bytes, contentType)
  const copy = await send(nginx.url, list)
  if (!copy.bytes.equals(reference.bytes) || copy.headers.get('content-type') !== contentType) {
    throw new Error(`nginx does not answer latchkey's bytes: ${copy.status} ${copy.headers.get('content-type')}`)
  }

  const contenders = { sqlite, postgres, nginx, fake }
  const rows = REQUESTS.flatMap((request) =>
    (request.on ?? LATCHKEYS).map((key) => ({ request, contender: contenders[key], runs: [] })),
  )
  for (const row of rows) await preflight(row)

  const resultsDir = path.join(HERE, 'results')
  fs.mkdirSync(resultsDir, { recursive: true })
  const stamp = new Date().toISOString().replace(/:/g, '').replace('T', '-').slice(0, 17)
  const resultsFile = path.join(resultsDir, `bench-${stamp}.txt`)
  const versions = [postgres.version, nginx.version, fake.version, `node ${process.version}`].join(', ')
  const header = [
    `latchkey bench: ${path.relative(ROOT, BIN)} (${gitCommit()}), ${os.cpus().length} cores ` +
      `(${os.cpus()[0]?.model.trim()}), load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ${new Date().toISOString()}`,
    `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s --timeout ${WRK_TIMEOUT}, ${ROUNDS} round(s) alternating the rows ` +
      `(the reads, then the writes), a ${WARMUP} s warm-up run of each row first; medians`,
    versions,
  ].join('\n')
  fs.writeFileSync(resultsFile, `${header}\n\n`)
  let finished = false
  cleanups.push(() => finished || fs.appendFileSync(resultsFile, 'INCOMPLETE: the run stopped before its end.\n'))
  const raw = (text) => fs.appendFileSync(resultsFile, text)
  console.log(header)

  const phases = [
    ['reads', rows.filter((r) => !r.request.writes)],
    ['writes', rows.filter((r) => r.request.writes)],
  ]
  const wal = {}
  let done = 0
  for (const [phase, phaseRows] of phases) {
    if (WARMUP > 0) {
      console.log(`bench: warming up (${phase}, ${WARMUP} s a row)`)
      for (const row of phaseRows) {
        raw(section(`warm-up (${phase})`, row, await measure(row, WARMUP)))
        await sleep(PAUSE_MS)
      }
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const row of phaseRows) {
        const run = await measure(row, SECONDS)
        row.runs.push(run)
        raw(section(`round ${round} (${phase})`, row, run))
        console.log(
          `[${++done}/${rows.length * ROUNDS}] round ${round} · ${row.request.label} · ${row.contender.name}: ` +
            `${int(run.rps)} req/s, p99 ${ms(run.p99)} ms, ${us(run.cpuUs)} µs CPU/req` +
            (disturbed(run) ? ` · other processes used ${cores(run.others, run)} cores` : '') +
            (run.problems.length ? ` · INVALID: ${run.problems.join(', ')}` : ''),
        )
        await sleep(PAUSE_MS)
      }
    }
    wal[phase] = fileMiB(path.join(sqlite.dataDir, 'latchkey.db-wal'))
  }
  console.log('bench: PostgreSQL alone, the statements of client_sessions/create (pgbench)')
  const pgAlone = []
  for (let round = 0; round < ROUNDS; round++) {
    pgAlone.push(pgbenchCreates(postgres.pg, SECONDS))
    await sleep(PAUSE_MS)
  }
  const creates = rows.find((r) => r.request.path === '/client_sessions/create' && r.contender === postgres)

  const footer = [
    `Peak RSS (VmHWM) at the end: latchkey SQLite ${mib(peakRssKiB([sqlite.proc.pid]))}, ` +
      `latchkey PostgreSQL ${mib(peakRssKiB([postgres.proc.pid]))} (latchkey's process; PostgreSQL's own not counted); ` +
      `for comparison fake-seam-connect ${mib(peakRssKiB(fake.roots()))}, ` +
      `nginx ${mib(peakRssKiB(nginx.roots()))} (master + workers).`,
    `SQLite WAL: ${wal.reads} after the read rounds, ${wal.writes} after the write rounds ` +
      `(database file ${fileMiB(path.join(sqlite.dataDir, 'latchkey.db'))}).`,
    'Server CPU: utime+stime of the server\'s processes per request wrk counted; latchkey PostgreSQL ' +
      'counts the cluster\'s processes too. nginx: a worker per core, no access log. Both latchkeys: --action-delay-ms 0, ' +
      'request log to a file.',
    pgAlone.includes(null)
      ? 'PostgreSQL alone: pgbench is not installed.'
      : `PostgreSQL alone (pgbench -c${CONNECTIONS} -M prepared, bench/pg_create.sql: the statements of one ` +
        `client_sessions/create, no HTTP server): ${int(median(pgAlone))} creates/s (median of ${ROUNDS}), ` +
        `where latchkey PostgreSQL answered ${creates ? int(summarise(creates).rps) : '?'}/s.`,
    otherLoad(rows),
    `Total run time ${Math.round((Date.now() - t0) / 1000)} s.`,
  ].join('\n')
  const result = `${table(rows)}\n\n${footer}\n`
  raw(`## Results\n\n${header}\n\n${result}`)
  finished = true
  console.log(`\n${result}\nbench: raw wrk output and this table in ${path.relative(process.cwd(), resultsFile)}`)

  await Promise.all(Object.values(contenders).map((c) => stop(c.proc)))
  const failed = rows.filter((row) => summarise(row).failures.length)
  if (failed.length) {
    console.error(`bench: ${failed.length} row(s) FAILED (see the table)`)
    process.exitCode = 1
  }
}

main().catch((err) => {
  console.error(`bench: ${err.stack ?? err}`)
  process.exitCode = 1
})
