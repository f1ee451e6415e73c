// The scale run (`make bench-scale`): per backend (SQLite, a throwaway
// PostgreSQL), latchkey-scale-seed writes a large workspace (1,000,000
// devices, 200,000 connected accounts, 100,000 client sessions by default)
// and a small one of the same shape (1,000 devices) into a fresh database;
// a Release latchkey serves it, and each call is measured on both
// workspaces: sequential latency (p50/p99), wrk requests/s, and paging
// through all devices and all client sessions. Prints a table with the
// ratio large/small and the database and WAL sizes; the whole output goes to
// bench/results/scale-<date>.txt. Everything it starts is stopped on exit.
// latchkey runs with --cache-mib 0: the same call made again and again would
// otherwise be answered from memory, and this run is about the database's
// cost as the workspace grows.
//
//   node bench/scale.mjs [--build DIR] [--devices N] [--accounts A] [--sessions S]
//                        [--small-devices N] [--backends sqlite,postgres]
//                        [--requests N] [--budget SECONDS] [--page-budget SECONDS]
//                        [--request-timeout SECONDS]
//                        [--wrk-seconds N] [--wrk-connections N] [--out FILE] [--keep]
// Each flag has an environment twin: SCALE_DEVICES, SCALE_BACKENDS, ...
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const PG_CLUSTER = path.join(ROOT, 'scripts/pg-test-cluster')

const DEFAULTS = {
  build: 'build-bench',
  devices: 1000000,
  accounts: 0, // 0: devices / 5
  sessions: 0, // 0: devices / 10
  'small-devices': 1000,
  backends: 'sqlite,postgres',
  requests: 200, // sequential requests per call and workspace ...
  budget: 30, // ... or as many as fit in this many seconds (at least 3)
  'page-budget': 300, // seconds of paging per list and workspace at most
  'request-timeout': 120, // a request that takes longer is given up (the server restarted)
  'wrk-seconds': 5,
  'wrk-connections': 4,
  out: '',
  keep: false,
}

const USAGE = `usage: node bench/scale.mjs [--build DIR] [--devices N] [--accounts A] [--sessions S]
  [--small-devices N] [--backends sqlite,postgres] [--requests N] [--budget SECONDS]
  [--page-budget SECONDS] [--request-timeout SECONDS] [--wrk-seconds N] [--wrk-connections N] [--out FILE] [--keep]
(environment twins: SCALE_DEVICES, SCALE_BACKENDS, ...)`

function parseArgs() {
  const o = { ...DEFAULTS }
  for (const k of Object.keys(DEFAULTS)) {
    const env = process.env['SCALE_' + k.toUpperCase().replace(/-/g, '_')]
    if (env !== undefined && env !== '') o[k] = typeof DEFAULTS[k] === 'boolean' ? env !== '0' : env
  }
  const argv = process.argv.slice(2)
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--help' || argv[i] === '-h') {
      console.log(USAGE)
      process.exit(0)
    }
    const k = argv[i].replace(/^--/, '')
    if (!(k in DEFAULTS) || !argv[i].startsWith('--')) {
      console.error(`scale: unknown argument ${argv[i]}\n${USAGE}`)
      process.exit(2)
    }
    if (typeof DEFAULTS[k] === 'boolean') o[k] = true
    else o[k] = argv[++i]
  }
  for (const k of Object.keys(DEFAULTS)) if (typeof DEFAULTS[k] === 'number') o[k] = Number(o[k])
  return o
}

const opts = parseArgs()
const BUILD = path.resolve(ROOT, opts.build)
const LATCHKEY = path.join(BUILD, 'latchkey')
const SEED = path.join(BUILD, 'latchkey-scale-seed')

// ---- output: the console and the results file ----

const lines = []
function out(s = '') {
  console.log(s)
  lines.push(s)
}
const stamp = new Date().toISOString().replace(/[:T]/g, '-').replace(/\..*/, '')
const resultsFile = opts.out || path.join(ROOT, 'bench/results', `scale-${stamp}.txt`)
function writeResults() {
  if (!lines.length) return
  fs.mkdirSync(path.dirname(resultsFile), { recursive: true })
  fs.writeFileSync(resultsFile, lines.join('\n') + '\n')
}

// ---- what was started, stopped on exit whatever happens ----

const work = fs.mkdtempSync(path.join(process.env.SCALE_DIR || os.tmpdir(), 'latchkey-scale-'))
const servers = new Set()
const clusters = new Set()
let cleanedUp = false
function cleanup() {
  if (cleanedUp) return
  cleanedUp = true
  for (const child of servers) {
    try {
      child.kill('SIGTERM')
    } catch {}
  }
  for (const dir of clusters) spawnSync(PG_CLUSTER, ['stop', dir], { stdio: 'ignore' })
  if (!opts.keep) fs.rmSync(work, { recursive: true, force: true })
  else console.error(`scale: kept ${work}`)
}
process.on('exit', cleanup)
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => {
    writeResults()
    cleanup()
    process.exit(130)
  })

// ---- helpers ----

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

function run(cmd, args, { env, input } = {}) {
  const r = spawnSync(cmd, args, { env: env || process.env, input, encoding: 'utf8', maxBuffer: 1 << 28 })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`)
  return r.stdout
}

// Runs the generator; its progress goes to the console as it comes.
function seed(dataDir, database, env) {
  return new Promise((resolve, reject) => {
    const args = ['--data-dir', dataDir, '--database', database, '--devices', String(opts.devices),
      '--small-devices', String(opts['small-devices'])]
    if (opts.accounts) args.push('--accounts', String(opts.accounts))
    if (opts.sessions) args.push('--sessions', String(opts.sessions))
    const child = spawn(SEED, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => {
      stderr += d
      process.stderr.write(d)
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      for (const l of stderr.trimEnd().split('\n')) lines.push(l)
      if (code !== 0) reject(new Error(`latchkey-scale-seed failed (exit ${code})`))
      else resolve(JSON.parse(stdout))
    })
  })
}

async function startServer(dataDir, database, env, log) {
  const port = await freePort()
  const logFd = fs.openSync(log, 'a')
  const child = spawn(LATCHKEY, ['serve', '--data-dir', dataDir, '--database', database,
    '--port', String(port), '--timeout', '300', '--cache-mib', '0'], { env, stdio: ['ignore', logFd, logFd] })
  fs.closeSync(logFd)
  servers.add(child)
  child.on('exit', () => servers.delete(child))
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`latchkey exited (${child.exitCode}); see ${log}`)
    try {
      const r = await fetch(base + '/health')
      if (r.ok) return { child, base, port }
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('latchkey did not answer /health')
}

async function stopServer(srv) {
  if (srv.child.exitCode !== null) return
  const done = new Promise((r) => srv.child.once('exit', r))
  srv.child.kill('SIGTERM')
  await Promise.race([done, new Promise((r) => setTimeout(r, 10000))])
  if (srv.child.exitCode === null) srv.child.kill('SIGKILL')
}

function peakRssKiB(pid) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

// One keep-alive connection, requests one after another.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
function request(base, method, route, credential, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : JSON.stringify(body)
    const headers = { authorization: `Bearer ${credential}` }
    if (data) {
      headers['content-type'] = 'application/json'
      headers['content-length'] = Buffer.byteLength(data)
    }
    const t0 = process.hrtime.bigint()
    const req = http.request(base + route, { method, headers, agent }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6
        const text = Buffer.concat(chunks).toString()
        let json = null
        try {
          json = JSON.parse(text)
        } catch {}
        resolve({ status: res.statusCode, ms, json, bytes: text.length, text })
      })
      res.on('error', reject)
    })
    req.setTimeout(opts['request-timeout'] * 1000, () => {
      const e = new Error(`no answer within ${opts['request-timeout']} s`)
      e.timeout = true
      req.destroy(e)
    })
    req.on('error', reject)
    if (data) req.write(data)
    req.end()
  })
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
}

function stats(times) {
  const s = [...times].sort((a, b) => a - b)
  return { n: s.length, p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s[s.length - 1],
    total: s.reduce((a, b) => a + b, 0) }
}

// Sequential requests: opts.requests of them, or what fits in opts.budget s.
async function measure(base, makeRequest) {
  const times = []
  let failures = 0
  let firstFailure = null
  let timedOut = false
  const t0 = Date.now()
  for (let i = 0; i < opts.requests; i++) {
    if (i >= 3 && Date.now() - t0 > opts.budget * 1000) break
    const { method, route, credential, body } = makeRequest(i)
    let r
    try {
      r = await request(base, method, route, credential, body)
    } catch (e) {
      if (!e.timeout) throw e
      timedOut = true
      firstFailure ??= e.message
      break
    }
    if (r.status !== 200 || !r.json || r.json.ok === false) {
      failures++
      firstFailure ??= `${r.status} ${r.text.slice(0, 200)}`
    }
    times.push(r.ms)
  }
  return { ...stats(times), failures, firstFailure, timedOut }
}

// Every page of a list, limit 500, following next_page_cursor.
async function pageThrough(base, route, key, credential, expected) {
  const times = []
  let rows = 0
  let cursor = null
  let complete = false
  let failure = null
  let timedOut = false
  const t0 = Date.now()
  for (;;) {
    if (Date.now() - t0 > opts['page-budget'] * 1000) break
    const body = { limit: 500 }
    if (cursor) body.page_cursor = cursor
    let r
    try {
      r = await request(base, 'POST', route, credential, body)
    } catch (e) {
      if (!e.timeout) throw e
      failure = e.message
      timedOut = true
      break
    }
    times.push(r.ms)
    if (r.status !== 200 || !r.json) {
      failure = `${r.status} ${r.text.slice(0, 200)}`
      break
    }
    rows += (r.json[key] || []).length
    const p = r.json.pagination
    if (!p || !p.has_next_page) {
      complete = true
      break
    }
    cursor = p.next_page_cursor
  }
  const s = stats(times)
  return { ...s, rows, complete, failure, timedOut, expected,
    estimatedTotal: complete || !rows ? s.total : (s.total * expected) / rows }
}

function wrk(base, route, credential) {
  const r = spawnSync('wrk', ['-t1', `-c${opts['wrk-connections']}`, `-d${opts['wrk-seconds']}s`,
    '--timeout', '60s', '--latency', '-H', `Authorization: Bearer ${credential}`, base + route],
  { encoding: 'utf8' })
  if (r.status !== 0) return { rps: NaN, raw: r.stderr }
  const rps = Number((r.stdout.match(/Requests\/sec:\s+([\d.]+)/) || [])[1])
  const non2xx = Number((r.stdout.match(/Non-2xx or 3xx responses:\s+(\d+)/) || [0, 0])[1])
  return { rps, non2xx, raw: r.stdout }
}

function fmtMs(v) {
  if (!Number.isFinite(v)) return '-'
  if (v >= 1000) return (v / 1000).toFixed(2) + ' s'
  if (v >= 10) return v.toFixed(1) + ' ms'
  return v.toFixed(2) + ' ms'
}
function fmtBytes(n) {
  if (n == null || !Number.isFinite(n)) return '-'
  if (n >= 1 << 30) return (n / (1 << 30)).toFixed(2) + ' GiB'
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + ' MiB'
  if (n >= 1 << 10) return (n / (1 << 10)).toFixed(1) + ' KiB'
  return n + ' B'
}
function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(1) + ' x' : '-'
}
function pad(s, n) {
  s = String(s)
  return s.length >= n ? s : s + ' '.repeat(n - s.length)
}
function lpad(s, n) {
  s = String(s)
  return s.length >= n ? s : ' '.repeat(n - s.length) + s
}

// ---- sizes ----

function sqliteSizes(dataDir) {
  const size = (f) => {
    try {
      return fs.statSync(path.join(dataDir, f)).size
    } catch {
      return 0
    }
  }
  return { database: size('latchkey.db'), wal: size('latchkey.db-wal') }
}

function pgSizes(cluster) {
  const txt = run(PG_CLUSTER, ['psql', cluster, 'scale', '-c',
    "SELECT pg_database_size('scale'), (SELECT COALESCE(sum(size), 0) FROM pg_ls_waldir())"]).trim()
  const [database, wal] = txt.split('|').map(Number)
  return { database, wal }
}

// ---- one backend ----

const CALLS = [
  { name: 'devices/list (token)', wrk: (w, s) => ['/devices/list', s.token],
    req: (w, s) => ({ method: 'POST', route: '/devices/list', credential: s.token, body: {} }) },
  { name: 'devices/get (token)', wrk: (w, s) => [`/devices/get?device_id=${s.device_ids[0]}`, s.token],
    req: (w, s) => ({ method: 'POST', route: '/devices/get', credential: s.token,
      body: { device_id: s.device_ids[0] } }) },
  { name: 'client_sessions/get (token)', wrk: (w, s) => ['/client_sessions/get', s.token],
    req: (w, s) => ({ method: 'POST', route: '/client_sessions/get', credential: s.token, body: {} }) },
  { name: 'devices/list?user_identifier_key (API key)',
    wrk: (w, s) => [`/devices/list?user_identifier_key=${s.user_identifier_key}`, w.api_key],
    req: (w, s) => ({ method: 'GET', route: `/devices/list?user_identifier_key=${s.user_identifier_key}`,
      credential: w.api_key }) },
  { name: 'locks/unlock_door (token; the answer)',
    req: (w, s) => ({ method: 'POST', route: '/locks/unlock_door', credential: s.token,
      body: { device_id: s.device_ids[0] } }) },
  { name: 'client_sessions/create (API key)',
    req: (w, s, i, tag) => ({ method: 'POST', route: '/client_sessions/create', credential: w.api_key,
      body: { user_identifier_key: `bench_new_${tag}_${i}`, connected_account_ids: s.connected_account_ids } }) },
]

// CPU time (ticks) latchkey has used so far.
function cpuTicks(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(f[11]) + Number(f[12])
  } catch {
    return NaN
  }
}

// Waits (at most 5 minutes) until the server works on nothing: requests
// that wrk left behind, or that a client gave up, keep running after it.
async function waitIdle(b) {
  const t0 = Date.now()
  let last = cpuTicks(b.srv.child.pid)
  while (Date.now() - t0 < 300000) {
    await new Promise((r) => setTimeout(r, 500))
    const now = cpuTicks(b.srv.child.pid)
    const busyPg = b.cluster ? Number(run(PG_CLUSTER, ['psql', b.cluster, 'scale', '-c',
      "SELECT count(*) FROM pg_stat_activity WHERE datname = 'scale' AND state = 'active'" +
      ' AND pid <> pg_backend_pid()']).trim()) : 0
    if (!(now - last > 2) && !busyPg) return
    last = now
  }
}

// After a request was given up: a fresh server (and, on PostgreSQL, no query
// of the old one still running), so that what follows is measured alone.
async function restart(b, why) {
  out(`  (${why}: restarting latchkey)`)
  await stopServer(b.srv)
  if (b.cluster)
    run(PG_CLUSTER, ['psql', b.cluster, 'scale', '-c',
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = 'scale'" +
      ' AND pid <> pg_backend_pid()'])
  b.srv = await startServer(b.dataDir, b.database, b.env, b.log)
}

async function benchBackend(backend) {
  const dir = path.join(work, backend)
  const dataDir = path.join(dir, 'data')
  fs.mkdirSync(dataDir, { recursive: true })
  const env = { ...process.env }
  delete env.LATCHKEY_SECRET
  let database
  let cluster = null
  if (backend === 'postgres') {
    cluster = path.join(dir, 'pg')
    clusters.add(cluster)
    run(PG_CLUSTER, ['start', cluster, '--owner', String(process.pid)])
    run(PG_CLUSTER, ['createdb', cluster, 'scale'])
    env.PGPASSWORD = fs.readFileSync(path.join(cluster, 'password'), 'utf8').trim()
    database = `postgres://latchkey@127.0.0.1:${fs.readFileSync(path.join(cluster, 'port'), 'utf8').trim()}/scale`
  } else {
    database = `sqlite:${path.join(dataDir, 'latchkey.db')}`
  }
  const sizes = () => (backend === 'postgres' ? pgSizes(cluster) : sqliteSizes(dataDir))

  out(`\n== ${backend}: generating (latchkey-scale-seed) ==`)
  const gen = await seed(dataDir, database, env)
  const sizesAfterSeed = sizes()
  out(`generation: ${gen.generation_seconds.toFixed(1)} s in all; large ${gen.large.generation.total_seconds.toFixed(1)} s ` +
    `(${Math.round(gen.large.generation.rows_per_second)} rows/s), small ${gen.small.generation.total_seconds.toFixed(2)} s`)

  const b = { dataDir, database, env, cluster, log: path.join(dir, 'server.log'), srv: null }
  b.srv = await startServer(dataDir, database, env, b.log)
  out(`latchkey serving on ${b.srv.base} (pid ${b.srv.child.pid})`)
  const ws = { small: gen.small, large: gen.large }
  const results = []
  const pages = []
  const throughput = []
  let rss = 0
  const noteRss = () => (rss = Math.max(rss, peakRssKiB(b.srv.child.pid) || 0))
  try {
    for (const call of CALLS) {
      const row = { name: call.name }
      for (const label of ['small', 'large']) {
        const w = ws[label]
        const sessions = w.sessions
        const tag = `${label}_${Date.now()}`
        const m = await measure(b.srv.base, (i) => call.req(w, sessions[i % sessions.length], i, tag))
        row[label] = m
        if (m.failures || m.timedOut) out(`  ! ${call.name} on ${label}: ${m.failures} failed, first: ${m.firstFailure}`)
        if (m.timedOut) {
          noteRss()
          await restart(b, `${call.name} on ${label} gave no answer within ${opts['request-timeout']} s`)
        }
      }
      out(`  ${pad(call.name, 44)} small p50 ${fmtMs(row.small.p50)} (n ${row.small.n})   large p50 ${fmtMs(row.large.p50)} (n ${row.large.n})`)
      results.push(row)
    }
    // Scoped answers hold the session's own devices only (a sanity check).
    for (const label of ['small', 'large']) {
      const s = ws[label].sessions[1]
      const r = await request(b.srv.base, 'POST', '/devices/list', s.token, {})
      if (r.json?.devices?.length !== s.device_ids.length)
        out(`  ! devices/list (token) on ${label} gave ${r.json?.devices?.length} devices, expected ${s.device_ids.length}`)
    }
    if (opts['wrk-seconds'] > 0) {
      for (const call of CALLS.filter((c) => c.wrk)) {
        const row = { name: call.name }
        for (const label of ['small', 'large']) {
          const w = ws[label]
          const [route, credential] = call.wrk(w, w.sessions[Math.floor(w.sessions.length / 2)])
          await waitIdle(b)
          row[label] = wrk(b.srv.base, route, credential)
        }
        out(`  wrk ${pad(call.name, 40)} small ${row.small.rps} req/s   large ${row.large.rps} req/s`)
        throughput.push(row)
      }
      await waitIdle(b)
    }
    // Paging last: a list that does not answer leaves the server busy.
    for (const [name, route, key, expect] of [
      ['page through devices/list (API key, 500)', '/devices/list', 'devices', (w) => w.devices],
      ['page through client_sessions/list (500)', '/client_sessions/list', 'client_sessions', (w) => w.client_sessions],
    ]) {
      const row = { name }
      for (const label of ['small', 'large']) {
        const w = ws[label]
        // client_sessions/create above added sessions: the generated ones are expected.
        row[label] = await pageThrough(b.srv.base, route, key, w.api_key, expect(w))
        const p = row[label]
        out(`  ${pad(name, 44)} ${label}: ${p.n} pages, ${p.rows} rows, ${fmtMs(p.total)}` +
          `${p.complete || p.failure ? '' : ` (stopped at the budget; whole list est. ${fmtMs(p.estimatedTotal)})`}` +
          `${p.failure ? ` FAILED: ${p.failure}` : ''}`)
        if (p.timedOut) {
          noteRss()
          await restart(b, `${name} on ${label}`)
        }
      }
      pages.push(row)
    }
    noteRss()
    const sizesAfterRun = sizes()
    return { backend, gen, sizesAfterSeed, sizesAfterRun, rss, results, pages, throughput }
  } finally {
    await stopServer(b.srv)
    if (cluster) {
      spawnSync(PG_CLUSTER, ['stop', cluster], { stdio: 'ignore' })
      clusters.delete(cluster)
    }
    if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true })
  }
}

// A latency cell: "-" without samples; "> T s" when the first request got
// no answer within the timeout; a trailing "+" when a later one did not.
function cell(m, key) {
  if (!m.n) return m.timedOut ? `>${opts['request-timeout']} s` : '-'
  return fmtMs(m[key]) + (m.timedOut ? '+' : '')
}
function lowerBound(m) {
  return m.n ? m.p50 : m.timedOut ? opts['request-timeout'] * 1000 : NaN
}
function ratioCell(large, small) {
  const r = ratio(lowerBound(large), small.p50)
  return !large.n && large.timedOut && r !== '-' ? '>' + r : r
}

function printTable(r) {
  const g = r.gen
  out(`\n## ${r.backend}: large ${g.large.devices} devices / ${g.large.connected_accounts} accounts / ` +
    `${g.large.client_sessions} sessions vs small ${g.small.devices} / ${g.small.connected_accounts} / ${g.small.client_sessions}`)
  out(`generation (public store calls, ${g.rows_per_transaction} rows per transaction): large ${g.large.generation.total_seconds.toFixed(1)} s ` +
    `(accounts+devices ${g.large.generation.accounts_and_devices_seconds.toFixed(1)} s, client sessions ` +
    `${g.large.generation.client_sessions_seconds.toFixed(1)} s, ${Math.round(g.large.generation.rows_per_second)} rows/s); ` +
    `small ${g.small.generation.total_seconds.toFixed(2)} s`)
  const head = `${pad('call (sequential, one connection)', 44)} ${lpad('small p50', 10)} ${lpad('small p99', 10)} ` +
    `${lpad('large p50', 10)} ${lpad('large p99', 10)} ${lpad('n s/l', 9)} ${lpad('large/small', 11)}`
  out(head)
  out('-'.repeat(head.length))
  for (const row of r.results)
    out(`${pad(row.name, 44)} ${lpad(cell(row.small, 'p50'), 10)} ${lpad(cell(row.small, 'p99'), 10)} ` +
      `${lpad(cell(row.large, 'p50'), 10)} ${lpad(cell(row.large, 'p99'), 10)} ` +
      `${lpad(`${row.small.n}/${row.large.n}`, 9)} ${lpad(ratioCell(row.large, row.small), 11)}` +
      `${row.small.failures || row.large.failures ? `  FAILURES ${row.small.failures}/${row.large.failures}` : ''}`)
  if (r.results.some((row) => row.small.timedOut || row.large.timedOut))
    out(`+ a request got no answer within ${opts['request-timeout']} s (latchkey was restarted); the figures leave it out`)
  const head2 = `${pad('paging, limit 500 (API key)', 44)} ${lpad('pages s/l', 12)} ${lpad('page p50 s', 10)} ` +
    `${lpad('page p50 l', 10)} ${lpad('page p99 l', 10)} ${lpad('total small', 11)} ${lpad('total large', 11)} ${lpad('p50 l/s', 8)}`
  out('')
  out(head2)
  out('-'.repeat(head2.length))
  for (const row of r.pages) {
    const l = row.large
    const total = l.complete ? fmtMs(l.total)
      : l.timedOut ? (l.n ? `>${fmtMs(l.total)}` : '-')
      : l.failure ? 'failed' : `~${fmtMs(l.estimatedTotal)}*`
    out(`${pad(row.name, 44)} ${lpad(`${row.small.n}/${l.n}`, 12)} ${lpad(cell(row.small, 'p50'), 10)} ` +
      `${lpad(cell(l, 'p50'), 10)} ${lpad(cell(l, 'p99'), 10)} ${lpad(row.small.complete ? fmtMs(row.small.total) : '-', 11)} ` +
      `${lpad(total, 11)} ${lpad(ratioCell(l, row.small), 8)}` +
      `${(l.failure && !l.timedOut) || row.small.failure ? '  FAILED' : ''}`)
  }
  if (r.pages.some((row) => !row.large.complete && !row.large.failure))
    out(`* stopped after ${opts['page-budget']} s; the total is extrapolated from the rows read`)
  if (r.pages.some((row) => row.large.timedOut || row.small.timedOut))
    out(`> a page got no answer within ${opts['request-timeout']} s (latchkey was restarted)`)
  if (r.throughput.length) {
    const head3 = `${pad(`wrk -t1 -c${opts['wrk-connections']} -d${opts['wrk-seconds']}s (GET)`, 44)} ${lpad('small req/s', 12)} ${lpad('large req/s', 12)} ${lpad('small/large', 11)}`
    out('')
    out(head3)
    out('-'.repeat(head3.length))
    for (const row of r.throughput)
      out(`${pad(row.name, 44)} ${lpad(row.small.rps.toFixed(1), 12)} ${lpad(row.large.rps.toFixed(1), 12)} ` +
        `${lpad(ratio(row.small.rps, row.large.rps), 11)}` +
        `${row.small.non2xx || row.large.non2xx ? `  non-2xx ${row.small.non2xx}/${row.large.non2xx}` : ''}`)
  }
  const what = r.backend === 'postgres' ? 'database (pg_database_size) / WAL (pg_wal)' : 'latchkey.db / latchkey.db-wal'
  out('')
  out(`sizes, ${what}: after generation ${fmtBytes(r.sizesAfterSeed.database)} / ${fmtBytes(r.sizesAfterSeed.wal)}; ` +
    `after the run ${fmtBytes(r.sizesAfterRun.database)} / ${fmtBytes(r.sizesAfterRun.wal)}`)
  out(`latchkey peak RSS: ${r.rss ? (r.rss / 1024).toFixed(1) + ' MiB' : '-'}`)
}

async function main() {
  for (const f of [LATCHKEY, SEED])
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: build it first (make bench-scale does)`)
  const backends = String(opts.backends).split(',').filter(Boolean)
  out(`latchkey scale run, ${new Date().toISOString()}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`)
  out(`commit ${spawnSync('git', ['-C', ROOT, 'describe', '--always', '--dirty'], { encoding: 'utf8' }).stdout.trim()}; ` +
    `binaries ${BUILD}; backends ${backends.join(', ')}`)
  out(`calls: ${opts.requests} sequential requests each (or what fits in ${opts.budget} s, at least 3), rotating over ` +
    `the sampled sessions (first, last and evenly between); paging at most ${opts['page-budget']} s per list`)
  const all = []
  for (const b of backends) {
    if (b !== 'sqlite' && b !== 'postgres') throw new Error(`unknown backend ${b}`)
    all.push(await benchBackend(b))
  }
  out('\n# latchkey scale run: results')
  for (const r of all) printTable(r)
  writeResults()
  console.error(`\nscale: written to ${path.relative(process.cwd(), resultsFile)}`)
}

main().catch((e) => {
  out(`scale: ${e.stack || e}`)
  writeResults()
  cleanup()
  process.exit(1)
})
