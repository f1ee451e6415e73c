// Shared helpers of the API test suite: start and stop a latchkey server on
// its own port and data dir (one per test file with useServer), run the admin
// CLI, call the API raw (wire-level checks) or through the official SDK, and
// validate response bodies against the OpenAPI schemas exported by
// @seamapi/types.
//
// The database: SQLite in each data dir by default. With
// LATCHKEY_TEST_POSTGRES set to the directory of a cluster of
// scripts/pg-test-cluster (CTest's postgres/* tests), every server and CLI
// run gets `--database postgres://...` instead: one database per data dir,
// created on first use and named after the data dir's path, so a restart on
// the same data dir and cliRun(dataDir, ...) reach the same database. BACKEND
// tells which; startPgCluster() makes a private cluster (for a test that
// restarts PostgreSQL); startServer({ sharedWith }) a second node on the
// database and server secret of another.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { createHash, randomUUID } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { after, before } from 'node:test'
import { fileURLToPath } from 'node:url'

import { SeamHttp, SeamHttpApiError } from '@seamapi/http/connect'
import { openapi } from '@seamapi/types/connect'
import Ajv from 'ajv'
import addFormats from 'ajv-formats'

const HERE = path.dirname(fileURLToPath(import.meta.url))

export const BIN = process.env.LATCHKEY_BIN || path.resolve(HERE, '../../build/latchkey')
export const SANITIZED = ['1', 'true', 'on', 'yes'].includes(
  String(process.env.LATCHKEY_SANITIZED ?? '').toLowerCase(),
)
/** Milliseconds to wait for a server to answer /health after it starts. */
export const STARTUP_MS = SANITIZED ? 60_000 : 20_000

// ---- the --seed fixture (shared/API.md) ----

export const SEED = Object.freeze({
  workspace1: 'seed_workspace_1',
  workspace2: 'seed_workspace_2',
  apiKey1: 'seam_apikey1_token',
  apiKey2: 'seam_apikey2_token',
  publishableKey1: 'seam_pk1_token',
  cst1: 'seam_cst1_token',
  session1: 'seed_client_session_1',
  johnAccount: 'john_connected_account_id',
  janeAccount: 'jane_connected_account_id',
  webview1: 'connect_webview1',
  johnIdentity: 'john_user_identity_id',
  johnKey: 'john_user_identifier_key',
})

/** Workspace 1's devices, in the fixture's fixed order. */
export const ALL_DEVICES = [
  'august_device_1',
  'august_device_2',
  'ecobee_device_1',
  'minut_device_1',
  'schlage_device_id',
]
export const JOHN_DEVICES = ALL_DEVICES.slice(0, 4)
export const JANE_DEVICES = ['schlage_device_id']

/**
 * The fixture's literal, non-UUID ids. The schema validator's `uuid` format
 * accepts these exactly, and real UUIDs; anything created through the API
 * must be a real UUID.
 */
export const FIXTURE_IDS = Object.freeze([
  'seed_workspace_1',
  'seed_workspace_2',
  'seed_api_key_1',
  'seed_api_key_2',
  'seed_client_session_1',
  'john_connected_account_id',
  'jane_connected_account_id',
  'connect_webview1',
  'john_user_identity_id',
  ...ALL_DEVICES,
])

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
export const isUuid = (s) => typeof s === 'string' && UUID_RE.test(s)
export const REQUEST_ID_RE =
  /^request_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A user_identifier_key no other test uses. */
export const uniqueKey = (label = 'user') => `${label}_${randomUUID()}`
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// ---- servers ----

const running = new Set()
process.on('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL')
    } catch {}
  }
})

/** Kills child (SIGKILL) should this process exit while it still runs. */
export function killAtExit(child) {
  running.add(child)
  child.on('exit', () => running.delete(child))
  child.on('error', () => running.delete(child))
}

/** A port that was free a moment ago (bind to 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

export function makeDataDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-api-'))
}

/** Removes a data dir (or a dir holding data dirs) and, on PostgreSQL, drops their databases. */
export function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true })
  forgetDatabases(dir)
}

/** Runs fn(dir) with a fresh data dir, removed afterwards however fn ends. */
export async function withDataDir(fn) {
  const dir = makeDataDir()
  try {
    return await fn(dir)
  } finally {
    removeDir(dir)
  }
}

/**
 * `PRAGMA integrity_check` of the SQLite database of a data dir, by Debian's
 * `sqlite3` tool, on a copy of latchkey.db and its -wal (the -shm index is
 * rebuilt from the WAL): the data dir is left exactly as the server left it,
 * so a server started on it afterwards recovers the WAL itself, as after a
 * real crash. Run it only while no server writes to the dir (stopped or
 * killed). Resolves to the tool's output, trimmed: 'ok' for a sound file.
 */
export async function sqliteIntegrityCheck(dataDir) {
  return withDataDir(async (copy) => {
    for (const name of ['latchkey.db', 'latchkey.db-wal']) {
      const from = path.join(dataDir, name)
      if (fs.existsSync(from)) fs.copyFileSync(from, path.join(copy, name))
    }
    const db = path.join(copy, 'latchkey.db')
    assert.ok(fs.existsSync(db), `no latchkey.db in ${dataDir}`)
    return new Promise((resolve, reject) => {
      execFile(
        'sqlite3',
        ['-batch', db, 'PRAGMA integrity_check;'],
        { timeout: 60_000 },
        (error, stdout, stderr) =>
          error
            ? reject(new Error(`sqlite3 ${db} failed (is Debian's sqlite3 installed?): ${error.message}\n${stderr}`))
            : resolve(stdout.trim()),
      )
    })
  })
}

// ---- the database: SQLite in the data dir, or PostgreSQL ----

const PG_SCRIPT = path.resolve(HERE, '../../scripts/pg-test-cluster')

/**
 * The backend the suites run on: 'postgres' when LATCHKEY_TEST_POSTGRES names
 * the directory of a running scripts/pg-test-cluster cluster, else 'sqlite'
 * (latchkey.db in each data dir, the server's default).
 */
export const BACKEND = process.env.LATCHKEY_TEST_POSTGRES ? 'postgres' : 'sqlite'

/** Runs scripts/pg-test-cluster; resolves { code, stdout (a Buffer), stderr }. */
function pgRun(...args) {
  return new Promise((resolve) => {
    execFile(
      PG_SCRIPT,
      args,
      { encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024, timeout: 180_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr: stderr.toString() }),
    )
  })
}

/** pgRun that rejects unless the script succeeded; resolves its stdout (a Buffer). */
async function pgScript(...args) {
  const r = await pgRun(...args)
  if (r.code !== 0) throw new Error(`scripts/pg-test-cluster ${args.join(' ')} failed (${r.code}):\n${r.stderr}`)
  return r.stdout
}

/** The cluster of scripts/pg-test-cluster in dir: what its files say. */
function clusterAt(dir) {
  const read = (name) => fs.readFileSync(path.join(dir, name), 'utf8').trim()
  let url
  let password
  try {
    url = read('url')
    password = read('password')
  } catch (err) {
    throw new Error(`no PostgreSQL test cluster in ${dir} (scripts/pg-test-cluster start ${dir}): ${err.message}`)
  }
  return {
    dir,
    url,
    password,
    port: Number(new URL(url).port),
    /** The URL of one of its databases (no password in it: PGPASSWORD). */
    databaseUrl(name) {
      const u = new URL(url)
      u.pathname = `/${name}`
      return u.href
    },
  }
}

let envCluster
/** The cluster of LATCHKEY_TEST_POSTGRES (shared with the other test files: never restart it). */
const sharedCluster = () => (envCluster ??= clusterAt(path.resolve(process.env.LATCHKEY_TEST_POSTGRES)))

/**
 * A private PostgreSQL cluster for this process, for a test that restarts
 * or stops PostgreSQL without disturbing the test files running beside it:
 * started in its own temporary dir (scripts/pg-test-cluster start DIR --owner
 * <this process>, so it never outlives this process). Resolves
 * { url, dir, port, password, databaseUrl(name), restart(), stop() }:
 * restart() is `pg_ctl restart -m fast` (open connections are cut) and
 * resolves once it accepts connections again; stop() stops it and removes
 * its dir. Servers use it with startServer({ cluster }) (or databaseFor(dir,
 * { cluster })); it works whatever BACKEND is.
 */
export async function startPgCluster() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-pg-'))
  try {
    await pgScript('start', dir, '--owner', String(process.pid))
  } catch (err) {
    await pgRun('stop', dir)
    fs.rmSync(dir, { recursive: true, force: true })
    throw err
  }
  return {
    ...clusterAt(dir),
    restart: async () => {
      await pgScript('restart', dir)
    },
    stop: async () => {
      await pgScript('stop', dir)
    },
  }
}

/**
 * Data dir (absolute path) -> the database its servers and CLI runs use:
 * { cluster, name, ready (a promise: created) } on PostgreSQL, { sqlite (the
 * file) } for the SQLite file of another data dir (startServer's sharedWith).
 * The data dirs of one database share one object. A data dir with no entry
 * uses its own latchkey.db, the server's default.
 */
const databases = new Map()

/** The database of a data dir, made (not yet created) on first use; null: SQLite. */
function databaseOf(dataDir, cluster) {
  const dir = path.resolve(dataDir)
  const known = databases.get(dir)
  if (known) {
    if (cluster && known.cluster?.dir !== cluster.dir) {
      throw new Error(`the data dir ${dir} has its database elsewhere already`)
    }
    return known
  }
  cluster ??= BACKEND === 'postgres' ? sharedCluster() : null
  if (!cluster) return null
  const name = `lk_${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`
  const db = { cluster, name, ready: pgScript('createdb', cluster.dir, name) }
  db.ready.catch(() => {}) // whoever uses it awaits it and sees the failure
  databases.set(dir, db)
  return db
}

/**
 * What a server or CLI run on dataDir adds to reach the data dir's database:
 * { args: ['--database', url] or [], env: { PGPASSWORD } or {}, url }. On
 * SQLite that is nothing (the server's default, <data-dir>/latchkey.db); on
 * PostgreSQL (BACKEND, or { cluster } from startPgCluster()) the data dir's
 * own database, created on first use. The same data dir always gets the
 * same database, and so does a data dir started with sharedWith.
 */
export async function databaseFor(dataDir, { cluster } = {}) {
  const db = databaseOf(dataDir, cluster)
  if (!db) return { args: [], env: {}, url: `sqlite:${path.join(dataDir, 'latchkey.db')}` }
  if (db.sqlite) return { args: ['--database', `sqlite:${db.sqlite}`], env: {}, url: `sqlite:${db.sqlite}` }
  await db.ready
  const url = db.cluster.databaseUrl(db.name)
  return { args: ['--database', url], env: { PGPASSWORD: db.cluster.password }, url }
}

/** databaseFor, unless the caller chose a database itself (--database or LATCHKEY_DATABASE_URL). */
function chosenDatabase(dataDir, args, env, cluster) {
  const own = args.some((a) => a === '--database' || a.startsWith('--database=')) || 'LATCHKEY_DATABASE_URL' in env
  return own ? { args: [], env: {} } : databaseFor(dataDir, { cluster })
}

/** Drops the PostgreSQL databases of the data dirs at or under dir that nothing else uses. */
function forgetDatabases(dir) {
  if (databases.size === 0) return
  const root = path.resolve(dir)
  const gone = []
  for (const [d, db] of databases) {
    if (d === root || d.startsWith(root + path.sep)) {
      databases.delete(d)
      gone.push(db)
    }
  }
  const inUse = new Set(databases.values())
  for (const db of new Set(gone)) {
    // Best effort, in the background: a cluster already stopped, or a server
    // still connected (DROP DATABASE then gives up), leaves it to the
    // cluster's own removal.
    if (db.name && !inUse.has(db)) db.ready.then(() => pgRun('dropdb', db.cluster.dir, db.name)).catch(() => {})
  }
}

/** The server secret given as LATCHKEY_SECRET to the servers of a data dir (for sharedWith). */
const secretEnvs = new Map()

/**
 * Makes dir a second node of the server `from` (a server, or anything with
 * its dataDir): the same server secret (its secret.key copied into dir, or
 * its LATCHKEY_SECRET) and the same database. Returns env to add.
 */
function shareWith(from, dir) {
  const fromDir = path.resolve(from.dataDir)
  const db = databaseOf(fromDir) ?? { sqlite: path.join(fromDir, 'latchkey.db') }
  const known = databases.get(path.resolve(dir))
  if (known && known !== db) throw new Error(`sharedWith: the data dir ${dir} has a database of its own already`)
  databases.set(path.resolve(dir), db)
  const secretFile = path.join(fromDir, 'secret.key')
  if (fs.existsSync(secretFile)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    fs.copyFileSync(secretFile, path.join(dir, 'secret.key'))
    fs.chmodSync(path.join(dir, 'secret.key'), 0o600)
    return {}
  }
  const secret = secretEnvs.get(fromDir)
  if (secret) return { LATCHKEY_SECRET: secret }
  throw new Error(`sharedWith: no server secret in ${fromDir} (start that server first)`)
}

/**
 * The data dir's database is sound: 'ok', else what the check found. SQLite:
 * sqliteIntegrityCheck (PRAGMA integrity_check on a copy). PostgreSQL:
 * pg_amcheck of its database (heap and every B-tree index, with
 * heapallindexed). Run it only while no server writes to it.
 */
export async function integrityCheck(dataDir) {
  const db = databaseOf(dataDir, null)
  if (!db) return sqliteIntegrityCheck(dataDir)
  if (db.sqlite) return sqliteIntegrityCheck(path.dirname(db.sqlite))
  await db.ready
  const r = await pgRun('check', db.cluster.dir, db.name)
  const out = `${r.stdout.toString().trim()}\n${r.stderr.trim()}`.trim()
  return r.code === 0 && out === '' ? 'ok' : `pg_amcheck (exit ${r.code}): ${out}`
}

function postgresOf(dataDir, what) {
  const db = databaseOf(dataDir, null)
  if (!db?.name) throw new Error(`${what}: the data dir ${dataDir} has no PostgreSQL database (BACKEND is ${BACKEND})`)
  return db
}

/** pg_dump of the data dir's PostgreSQL database, plain SQL, as a Buffer. */
export async function pgDump(dataDir) {
  const db = postgresOf(dataDir, 'pgDump')
  await db.ready
  return pgScript('dump', db.cluster.dir, db.name)
}

/**
 * Runs sql in the data dir's PostgreSQL database as the superuser (psql -A
 * -t: unaligned, no headers; columns split by |); resolves the output, trimmed.
 */
export async function pgQuery(dataDir, sql) {
  const db = postgresOf(dataDir, 'pgQuery')
  await db.ready
  return (await pgScript('psql', db.cluster.dir, db.name, '-c', sql)).toString().trim()
}

/**
 * Runs one SQL statement on the data dir's database, whichever backend it is
 * (Debian's sqlite3 tool on the SQLite file, psql on PostgreSQL); resolves
 * the output, trimmed (no headers; columns split by |).
 */
export async function sqlQuery(dataDir, statement) {
  const db = databaseOf(dataDir, null)
  if (db?.name) return pgQuery(dataDir, statement)
  const file = db?.sqlite ?? path.join(dataDir, 'latchkey.db')
  return new Promise((resolve, reject) => {
    execFile('sqlite3', ['-batch', '-cmd', '.timeout 5000', file, statement], (error, stdout, stderr) =>
      error ? reject(new Error(`sqlite3 ${file}: ${error.message}\n${stderr}`)) : resolve(stdout.trim()),
    )
  })
}

/** Our environment without any LATCHKEY_* setting (those are flags' twins). */
function serverEnv(extra) {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LATCHKEY_')) env[k] = v
  return { ...env, ...extra }
}

const SANITIZER_MARKERS = [
  'ERROR: AddressSanitizer',
  'ERROR: LeakSanitizer',
  'runtime error:',
  'ThreadSanitizer',
]

/**
 * Starts `latchkey serve` on a free port with its own data dir (or `dataDir`,
 * which is then left in place on stop) and waits until GET /health is 200.
 * The database is the data dir's (databaseFor): SQLite by default, the
 * PostgreSQL of LATCHKEY_TEST_POSTGRES, or of `cluster` (startPgCluster()).
 * `sharedWith: server` starts another node of that server instead: its own
 * data dir (and port), the same server secret and the same database; seed
 * defaults to false then (the database has what the first one seeded).
 * Returns { url, port, dataDir, proc, stdout(), stderr(), stop(), kill() }.
 * stop() sends SIGTERM, waits for the exit, removes a data dir it created, and
 * rejects when the server did not exit cleanly or a sanitizer reported.
 * kill() is the crash instead: SIGKILL (no shutdown, nothing flushed or
 * checkpointed), waits for the exit, removes a data dir it created, rejects
 * only on a sanitizer report, and resolves { code, signal }. Whichever of the
 * two comes first wins: the other then resolves (or rejects) the same way, so
 * a `finally { await server.stop() }` after a kill() is harmless. A server
 * started again on the same dataDir (with seed: false) is a restart.
 */
export async function startServer({ seed, env = {}, args = [], dataDir, cluster, sharedWith } = {}) {
  if (seed === undefined) seed = !sharedWith
  const ownDir = !dataDir
  const dir = dataDir ?? makeDataDir()
  try {
    if (sharedWith) env = { ...shareWith(sharedWith, dir), ...env }
    if (env.LATCHKEY_SECRET) secretEnvs.set(path.resolve(dir), env.LATCHKEY_SECRET)
    const database = await chosenDatabase(dir, args, env, cluster)
    args = [...args, ...database.args]
    env = { ...database.env, ...env }
  } catch (err) {
    if (ownDir) removeDir(dir)
    throw err
  }
  let lastError
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    try {
      return await launch({ port, dir, ownDir, seed, env, args })
    } catch (err) {
      lastError = err
      // Another process took the port between our probe and the bind: retry.
      if (!/cannot listen|in use/i.test(String(err.message))) break
    }
  }
  if (ownDir) removeDir(dir)
  throw lastError
}

async function launch({ port, dir, ownDir, seed, env, args }) {
  const argv = ['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dir]
  if (seed) argv.push('--seed')
  argv.push(...args)
  const proc = spawn(BIN, argv, { env: serverEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(proc)
  let out = ''
  let err = ''
  proc.stdout.setEncoding('utf8').on('data', (d) => (out += d))
  proc.stderr.setEncoding('utf8').on('data', (d) => (err += d))
  let exitInfo = null
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      running.delete(proc)
      exitInfo = { code, signal }
      resolve(exitInfo)
    })
    proc.on('error', (e) => {
      running.delete(proc)
      exitInfo = { code: null, signal: null, error: e }
      resolve(exitInfo)
    })
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + STARTUP_MS
  for (;;) {
    if (exitInfo) {
      throw new Error(
        `latchkey exited before answering /health (${JSON.stringify(exitInfo)}):\n${err}`,
      )
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })
      await res.arrayBuffer()
      if (res.status === 200) break
    } catch {}
    if (Date.now() > deadline) {
      proc.kill('SIGKILL')
      await exited
      throw new Error(`latchkey did not answer /health within ${STARTUP_MS} ms:\n${err}`)
    }
    await sleep(100)
  }
  let stopping = null
  const sanitizerReport = () => {
    const report = SANITIZER_MARKERS.find((m) => err.includes(m))
    if (report) {
      throw new Error(`sanitizer report from latchkey (${report}):\n${err.slice(-8000)}`)
    }
  }
  const kill = () => {
    stopping ??= (async () => {
      if (!exitInfo) proc.kill('SIGKILL')
      const info = await exited
      if (ownDir) removeDir(dir)
      sanitizerReport()
      return info
    })()
    return stopping
  }
  const stop = () => {
    stopping ??= (async () => {
      if (!exitInfo) proc.kill('SIGTERM')
      const killer = setTimeout(() => proc.kill('SIGKILL'), SANITIZED ? 30_000 : 15_000)
      const info = await exited
      clearTimeout(killer)
      if (ownDir) removeDir(dir)
      sanitizerReport()
      if (info.code !== 0) {
        throw new Error(
          `latchkey did not exit cleanly on SIGTERM (${JSON.stringify(info)}):\n${err.slice(-4000)}`,
        )
      }
      return info
    })()
    return stopping
  }
  return {
    url,
    port,
    dataDir: dir,
    proc,
    stdout: () => out,
    stderr: () => err,
    stop,
    kill,
  }
}

/**
 * The server's stderr once seen(text) holds: the request log is written in
 * batches (within about 50 ms of a request, src/core/log.h), so a test that
 * looks for a request's line waits for it. Looks every 20 ms for up to
 * timeoutMs, then fails with the log's tail.
 */
export async function stderrWhen(server, seen, timeoutMs = 5000) {
  return outputWhen(server.stderr, 'log', seen, timeoutMs)
}

/**
 * stderrWhen for the server's stdout: what it prints reaches the test
 * through its own pipe, maybe after /health has answered.
 */
export async function stdoutWhen(server, seen, timeoutMs = 5000) {
  return outputWhen(server.stdout, 'output', seen, timeoutMs)
}

async function outputWhen(read, what, seen, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const text = read()
    if (seen(text)) return text
    if (Date.now() > deadline) assert.fail(`not in the server's ${what} within ${timeoutMs} ms:\n${text.slice(-2000)}`)
    await sleep(20)
  }
}

/**
 * Runs fn(server) against a server of its own, startServer(options), and
 * stops it afterwards however fn ends; resolves to what fn resolves to.
 */
export async function withServer(options, fn) {
  const server = await startServer(options)
  try {
    return await fn(server)
  } finally {
    await server.stop()
  }
}

/**
 * Runs each step (a function, or undefined) in order, all of them even when
 * one fails, then throws the first failure: a server's stop that reports a
 * sanitizer finding must not leave the simulator and broker running (they
 * would keep the test process alive until its timeout).
 */
export async function stopAll(...steps) {
  let first
  for (const step of steps) {
    try {
      await step?.()
    } catch (err) {
      first ??= err
    }
  }
  if (first) throw first
}

/**
 * One server, startServer(options), for the tests of the file (or describe
 * block) that calls this: started before them and stopped after them, where
 * the stop fails the suite if the server did not exit cleanly. Returns the
 * server's stand-in: url, port, dataDir, proc, stdout() and stderr() are those
 * of the running server, so it goes wherever a server does (call, rawRequest,
 * the sdk* helpers). Reading them outside a test or hook throws.
 */
export function useServer(options) {
  let server
  before(async () => {
    server = await startServer(options)
  })
  after(async () => {
    await server?.stop()
  })
  const running = () => server ?? assert.fail('useServer: the server runs only during the tests')
  return Object.freeze({
    get url() {
      return running().url
    },
    get port() {
      return running().port
    },
    get dataDir() {
      return running().dataDir
    },
    get proc() {
      return running().proc
    },
    stdout: () => running().stdout(),
    stderr: () => running().stderr(),
  })
}

// ---- the admin CLI ----

/**
 * Runs `latchkey ...args --data-dir dataDir` (on PostgreSQL with the data
 * dir's `--database`, as its servers); resolves { code, stdout, stderr }.
 */
export async function cliRun(dataDir, ...args) {
  const database = await chosenDatabase(dataDir, args, {})
  return new Promise((resolve) => {
    execFile(
      BIN,
      [...args, '--data-dir', dataDir, ...database.args],
      { env: serverEnv(database.env), timeout: SANITIZED ? 60_000 : 20_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr })
      },
    )
  })
}

/** Runs a CLI command that must succeed and print JSON; returns the JSON. */
export async function cli(dataDir, ...args) {
  const r = await cliRun(dataDir, ...args)
  assert.equal(r.code, 0, `latchkey ${args.join(' ')} failed (${r.code}):\n${r.stderr}`)
  try {
    return JSON.parse(r.stdout)
  } catch {
    assert.fail(`latchkey ${args.join(' ')} did not print JSON:\n${r.stdout}`)
  }
}

// ---- raw HTTP ----

/** A query string from an object: arrays as repeated keys, [] as `key=`. */
export function toQuery(query) {
  if (query == null) return ''
  if (typeof query === 'string') return query
  const sp = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue
    if (Array.isArray(v)) {
      if (v.length === 0) sp.append(k, '')
      for (const item of v) sp.append(k, String(item))
    } else {
      sp.append(k, String(v))
    }
  }
  return sp.toString()
}

/**
 * One raw request. `base` is a server (or its url), `route` a path such as
 * '/devices/list'. token: sent as 'Authorization: Bearer'. body: an object
 * sent as JSON; rawBody: sent as is. query: object or string. timeoutMs:
 * abort (reject) when the response has not arrived by then.
 * Resolves { status, headers, body (parsed JSON or undefined), text, requestId }.
 */
export async function call(base, route, opts = {}) {
  const { method = 'POST', token, headers = {}, body, rawBody, query, timeoutMs } = opts
  const url = typeof base === 'string' ? base : base.url
  const qs = toQuery(query)
  const h = { ...headers }
  if (token) h.authorization = `Bearer ${token}`
  let payload
  if (rawBody !== undefined) payload = rawBody
  else if (body !== undefined) {
    payload = JSON.stringify(body)
    h['content-type'] ??= 'application/json'
  }
  const init = { method, headers: h, body: payload }
  if (payload && typeof payload.getReader === 'function') init.duplex = 'half'
  if (timeoutMs) init.signal = AbortSignal.timeout(timeoutMs)
  const res = await fetch(`${url}${route}${qs ? `?${qs}` : ''}`, init)
  const text = await res.text()
  let parsed
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    parsed = undefined
  }
  return {
    status: res.status,
    headers: res.headers,
    body: parsed,
    text,
    requestId: res.headers.get('seam-request-id'),
  }
}

/**
 * call() with `params` where the method takes them: the query string for
 * GET, a JSON body for the others. opts as for call() (token, headers, ...).
 */
export function callRoute(base, method, route, params, opts = {}) {
  return call(base, route, method === 'GET' ? { ...opts, method, query: params } : { ...opts, method, body: params })
}

/**
 * One request over a plain socket, for cases fetch cannot observe: the
 * response is read as soon as it arrives, even while the body is still being
 * written (write errors are recorded, not thrown). `head` is the request line
 * and headers without the final blank line; `body` a Buffer or string.
 * Resolves like call(), plus writeError (the code of a failed write, if any).
 */
export function rawRequest(base, head, body = '') {
  const port = typeof base === 'number' ? base : base.port
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(body)
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1')
    const chunks = []
    let writeError = null
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new Error('rawRequest: no complete response within the time limit'))
    }, SANITIZED ? 30_000 : 10_000)
    const finish = () => {
      clearTimeout(timer)
      const raw = Buffer.concat(chunks).toString('utf8')
      const split = raw.indexOf('\r\n\r\n')
      if (split < 0) return reject(new Error(`rawRequest: no response (${writeError}): ${raw}`))
      const [statusLine, ...lines] = raw.slice(0, split).split('\r\n')
      const headers = new Headers()
      for (const line of lines) {
        const i = line.indexOf(':')
        if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim())
      }
      const text = raw.slice(split + 4)
      let parsed
      try {
        parsed = text ? JSON.parse(text) : undefined
      } catch {}
      resolve({
        status: Number(statusLine.split(' ')[1]),
        headers,
        body: parsed,
        text,
        requestId: headers.get('seam-request-id'),
        writeError,
      })
    }
    const complete = () => {
      const raw = Buffer.concat(chunks)
      const split = raw.indexOf('\r\n\r\n')
      if (split < 0) return false
      const m = /content-length:\s*(\d+)/i.exec(raw.subarray(0, split).toString())
      return m && raw.length >= split + 4 + Number(m[1])
    }
    sock.on('data', (d) => {
      chunks.push(d)
      if (complete()) {
        sock.destroy()
        finish()
      }
    })
    sock.on('error', (e) => {
      writeError ??= e.code
    })
    sock.on('close', () => {
      if (!complete()) finish()
    })
    sock.on('connect', async () => {
      // Like curl: write the body in chunks, reading in between, and stop
      // writing once the server has answered.
      const answered = () => chunks.length > 0 || sock.destroyed
      try {
        sock.write(`${head}\r\n\r\n`)
        await sleep(SANITIZED ? 200 : 50)
        for (let at = 0; at < payload.length && !answered(); at += 16 * 1024) {
          const ok = sock.write(payload.subarray(at, at + 16 * 1024))
          if (!ok) await new Promise((r) => sock.once('drain', r).once('close', r))
          await new Promise((r) => setImmediate(r))
        }
      } catch (e) {
        writeError ??= e.code ?? String(e)
      }
    })
  })
}

/** Asserts a 200 success: JSON, ok:true, the request id header. */
export function assertOk(res, key) {
  assert.equal(res.status, 200, `expected 200, got ${res.status}: ${res.text}`)
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  assert.equal(res.body?.ok, true, `ok must be true: ${res.text}`)
  assert.match(res.requestId ?? '', REQUEST_ID_RE)
  if (key) assert.ok(key in res.body, `response has no "${key}": ${res.text}`)
  return res.body
}

/**
 * Asserts the API error shape {"error":{"type","message"},"ok":false}, the
 * status, and (when given) the error type; returns the error object.
 */
export function assertError(res, status, type) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`)
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  assert.equal(res.body?.ok, false, `ok must be false: ${res.text}`)
  assert.equal(typeof res.body?.error, 'object', `no error object: ${res.text}`)
  assert.equal(typeof res.body.error.type, 'string', `error.type must be a string: ${res.text}`)
  assert.equal(typeof res.body.error.message, 'string', `error.message must be a string: ${res.text}`)
  assert.ok(res.body.error.message.length > 0, 'error.message must not be empty')
  assert.match(res.requestId ?? '', REQUEST_ID_RE)
  if (type) assert.equal(res.body.error.type, type, `error type: ${res.text}`)
  return res.body.error
}

/** Asserts a 400 invalid_input naming each of `params` in validation_errors. */
export function assertInvalidInput(res, ...params) {
  const error = assertError(res, 400, 'invalid_input')
  for (const p of params) {
    const entry = error.validation_errors?.[p]
    assert.ok(entry, `validation_errors must name "${p}": ${res.text}`)
    assert.ok(Array.isArray(entry._errors), `validation_errors.${p}._errors must be an array`)
    assert.ok(entry._errors.length > 0, `validation_errors.${p}._errors must not be empty`)
    for (const m of entry._errors) assert.equal(typeof m, 'string')
  }
  return error
}

/** The ids of devices, in order (the SDK's devices.list() gives such a list). */
export const deviceIdsOf = (devices) => devices.map((d) => d.device_id)

/** The device ids of a devices/list response body. */
export const deviceIds = (body) => deviceIdsOf(body.devices)

// ---- requests the suites share ----

/** GET devices/list with this credential; asserts a 200 and returns the device ids. */
export async function listDeviceIds(server, token, query) {
  const res = await call(server, '/devices/list', { method: 'GET', token, query })
  return deviceIds(assertOk(res, 'devices'))
}

/**
 * Creates a client session with this API key: the body is
 * { user_identifier_key: a fresh one (uniqueKey(label)), ...body }. Asserts a
 * 200 and returns the session.
 */
export async function createSession(server, apiKey, body = {}, { method = 'POST', label } = {}) {
  const res = await call(server, '/client_sessions/create', {
    method,
    token: apiKey,
    body: { user_identifier_key: uniqueKey(label), ...body },
  })
  return assertOk(res, 'client_session').client_session
}

/** Revokes a client session with this API key; asserts a 200. */
export async function revokeSession(server, apiKey, clientSessionId) {
  const res = await call(server, '/client_sessions/revoke', {
    token: apiKey,
    body: { client_session_id: clientSessionId },
  })
  return assertOk(res)
}

/** GET client_sessions/list with this credential and query; asserts a 200 and returns the sessions. */
export async function listSessions(server, token, query) {
  const res = await call(server, '/client_sessions/list', { method: 'GET', token, query })
  return assertOk(res, 'client_sessions').client_sessions
}

/** GET client_sessions/get with this credential and query; resolves to the raw response. */
export function getSession(server, token, query) {
  return call(server, '/client_sessions/get', { method: 'GET', token, query })
}

// ---- SDK ----

const sdkOptions = (server, extra = {}) => ({
  endpoint: typeof server === 'string' ? server : server.url,
  axiosRetryOptions: { retries: 0 },
  ...extra,
})

export const sdkFromApiKey = (server, key) => SeamHttp.fromApiKey(key, sdkOptions(server))
export const sdkFromToken = (server, token) =>
  SeamHttp.fromClientSessionToken(token, sdkOptions(server))
export const sdkFromPublishableKey = (server, pk, userIdentifierKey) =>
  SeamHttp.fromPublishableKey(pk, userIdentifierKey, sdkOptions(server))

/** The API error type behind an SDK error (401s are all code 'unauthorized'). */
export const sdkErrorType = (err) => err?.cause?.response?.data?.error?.type ?? err?.code

/** Asserts that an SDK call rejects with an API error of this status (and type). */
export async function sdkRejects(promise, status, type) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof SeamHttpApiError, `expected a SeamHttpApiError, got ${err}`)
    assert.equal(err.statusCode, status, `status of ${err.message}`)
    if (type) assert.equal(sdkErrorType(err), type)
    return true
  })
}

// ---- OpenAPI response validation ----

const DEFS_ID = 'https://latchkey.test/seam-openapi-schemas.json'

/**
 * The OpenAPI 3.0 schema as JSON Schema for Ajv: component refs point into
 * one shared $defs document, and the boolean exclusiveMinimum/Maximum of
 * OpenAPI 3.0 become the numeric form.
 */
function rewriteRefs(schema) {
  const walk = (node) => {
    if (Array.isArray(node)) return node.map(walk)
    if (node === null || typeof node !== 'object') return node
    const out = {}
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
        out[k] = `${DEFS_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`
      } else {
        out[k] = walk(v)
      }
    }
    for (const [ex, bound] of [
      ['exclusiveMinimum', 'minimum'],
      ['exclusiveMaximum', 'maximum'],
    ]) {
      if (typeof out[ex] === 'boolean') {
        if (out[ex] && typeof out[bound] === 'number') {
          out[ex] = out[bound]
          delete out[bound]
        } else {
          delete out[ex]
        }
      }
    }
    return out
  }
  return walk(schema)
}

let ajv
function getAjv() {
  if (ajv) return ajv
  ajv = new Ajv({ strict: false, allErrors: true, discriminator: true })
  addFormats(ajv)
  ajv.addFormat('uuid', {
    type: 'string',
    validate: (s) => isUuid(s) || FIXTURE_IDS.includes(s),
  })
  ajv.addSchema({ $id: DEFS_ID, $defs: rewriteRefs(openapi.components.schemas) })
  return ajv
}

const validators = new Map()

/** The compiled validator of the 200 response of `method route`. */
export function responseValidator(route, method = 'post') {
  const key = `${method} ${route}`
  if (!validators.has(key)) {
    const op = openapi.paths[route]?.[method.toLowerCase()]
    assert.ok(op, `the OpenAPI has no ${method.toUpperCase()} ${route}`)
    const schema = op.responses?.['200']?.content?.['application/json']?.schema
    assert.ok(schema, `the OpenAPI has no 200 JSON response for ${method.toUpperCase()} ${route}`)
    validators.set(key, getAjv().compile(rewriteRefs(schema)))
  }
  return validators.get(key)
}

/** Asserts that a raw response body matches the route's 200 schema. */
export function assertMatchesSchema(route, body, method = 'post') {
  const validate = responseValidator(route, method)
  if (!validate(body)) {
    const errors = validate.errors
      .slice(0, 15)
      .map((e) => `  ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`)
      .join('\n')
    assert.fail(
      `${method.toUpperCase()} ${route} response does not match the OpenAPI schema:\n${errors}\nbody: ${JSON.stringify(body).slice(0, 2000)}`,
    )
  }
}

// ---- response validation that also compiles `nullable` without `type` ----
// Some schemas of @seamapi/types (action_attempt's result/error, ...) say
// `nullable: true` without a `type`; in OpenAPI 3.0 that has no effect, but
// Ajv refuses to compile it. This validator drops such `nullable`s first.

const dropUntypedNullable = (node) => {
  if (Array.isArray(node)) return node.map(dropUntypedNullable)
  if (node === null || typeof node !== 'object') return node
  const out = {}
  for (const [k, v] of Object.entries(node)) out[k] = dropUntypedNullable(v)
  if ('nullable' in out && !('type' in out)) delete out.nullable
  return out
}

let openApi30Ajv
const openApi30Validators = new Map()

/** Like assertMatchesSchema, for every route's schema (see above). */
export function assertResponseMatchesSchema(route, body, method = 'post') {
  const key = `${method} ${route}`
  if (!openApi30Validators.has(key)) {
    if (!openApi30Ajv) {
      openApi30Ajv = new Ajv({ strict: false, allErrors: true, discriminator: true })
      addFormats(openApi30Ajv)
      openApi30Ajv.addFormat('uuid', {
        type: 'string',
        validate: (s) => isUuid(s) || FIXTURE_IDS.includes(s),
      })
      openApi30Ajv.addSchema({
        $id: DEFS_ID,
        $defs: dropUntypedNullable(rewriteRefs(openapi.components.schemas)),
      })
    }
    const op = openapi.paths[route]?.[method.toLowerCase()]
    assert.ok(op, `the OpenAPI has no ${method.toUpperCase()} ${route}`)
    const schema = op.responses?.['200']?.content?.['application/json']?.schema
    assert.ok(schema, `the OpenAPI has no 200 JSON response for ${method.toUpperCase()} ${route}`)
    openApi30Validators.set(key, openApi30Ajv.compile(dropUntypedNullable(rewriteRefs(schema))))
  }
  const validate = openApi30Validators.get(key)
  if (!validate(body)) {
    const errors = validate.errors
      .slice(0, 15)
      .map((e) => `  ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`)
      .join('\n')
    assert.fail(
      `${method.toUpperCase()} ${route} response does not match the OpenAPI schema:\n${errors}\nbody: ${JSON.stringify(body).slice(0, 2000)}`,
    )
  }
}

/**
 * GETs route with query, asserts ok (with key in the body) and that the body
 * matches the route's OpenAPI schema; returns the body.
 */
export async function getChecked(server, route, key, query = {}, token) {
  const out = assertOk(await call(server, route, { method: 'GET', token, query }), key)
  assertResponseMatchesSchema(route, out, 'get')
  return out
}
