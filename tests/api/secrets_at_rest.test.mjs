// No secret in clear on disk or in the logs: API keys (the first start's
// sandbox key, `latchkey api-key create`), client session tokens (create,
// get_or_create, publishable key), connect webview auth_tokens and the
// provider password typed into the webview, and the server secret itself, are
// looked for as raw bytes in every file of the data dir (database, -wal, -shm)
// and in the server's stdout/stderr, after a clean stop and after SIGKILL
// (WAL not checkpointed), once each secret went through requests that
// succeeded and requests that failed. Also the data dir's mode (0700) and its
// files' (0600). The one allowed exception: the first start without --seed
// prints its sandbox API key on stdout, once.
//
// On PostgreSQL (BACKEND) the database is not in the data dir: the scans run
// on a private cluster (startPgCluster) and look, besides the data dir, in a
// pg_dump of the database (plain SQL), in the raw files of the database and
// of the cluster's WAL, and in PostgreSQL's log. The modes are checked on
// what the data dir holds (the secret); the SQLite files' own checks are
// skipped.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'

import {
  BACKEND,
  call,
  cli,
  cliRun,
  databaseFor,
  makeDataDir,
  pgDump,
  pgQuery,
  removeDir,
  sdkFromApiKey,
  sdkFromPublishableKey,
  sdkFromToken,
  startPgCluster,
  startServer,
  stdoutWhen,
  uniqueKey,
} from './harness.mjs'
import {
  LOGINS,
  SANDBOX_PASSWORD,
  completeWebview,
  postWebview,
  reachLoginForm,
} from './webview_flow.mjs'

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const base62 = (n) => [...randomBytes(n)].map((b) => BASE62[b % 62]).join('')

/** The line of the first start's stdout that shows the sandbox API key. */
const BOOTSTRAP_KEY_LINE = /API key\s+(seam_\S+)/

/**
 * A secret to look for: the whole value and its random part(s) on their own
 * (a store that kept `seam_<id>_` apart from the random tail would otherwise
 * slip through).
 */
function secret(label, value) {
  const parts = value.split('_').filter((p) => p.length >= 24)
  return { label, needles: [...new Set([value, ...parts])] }
}

/**
 * Issues every kind of secret on a running server and uses each of them in
 * requests that succeed and in requests that fail. Returns the secrets.
 */
async function issueAndUse(server, dataDir, round) {
  const secrets = []

  // API keys from the admin CLI, against the running server's data dir.
  const ws = await cli(dataDir, 'workspace', 'create', '--name', `Secrets ${round}`, '--sandbox')
  const created = await cliRun(dataDir, 'api-key', 'create', '--workspace', ws.workspace_id)
  assert.equal(created.code, 0, created.stderr)
  const apiKey = JSON.parse(created.stdout).api_key
  assert.ok(!created.stderr.includes(apiKey), 'api-key create must not print the key to stderr')
  secrets.push(secret(`API key (${round}, api-key create)`, apiKey))

  const ok = (res, what) => assert.equal(res.status, 200, `${what}: ${res.status} ${res.text}`)
  const seam = sdkFromApiKey(server, apiKey)
  ok(await call(server, '/workspaces/get', { method: 'GET', token: apiKey }), 'workspaces/get')

  // Client session tokens: create (POST and the SDK's), get_or_create, and
  // with the publishable key (raw header and the SDK).
  const tokens = []
  const byPost = await call(server, '/client_sessions/create', {
    token: apiKey,
    body: { user_identifier_key: uniqueKey('secrets_post') },
  })
  ok(byPost, 'client_sessions/create')
  tokens.push(['client_sessions/create', byPost.body.client_session])
  const bySdk = await seam.clientSessions.create({ user_identifier_key: uniqueKey('secrets_sdk') })
  tokens.push(['SDK clientSessions.create', bySdk])
  const goc = await call(server, '/client_sessions/get_or_create', {
    token: apiKey,
    body: { user_identifier_key: uniqueKey('secrets_goc') },
  })
  ok(goc, 'client_sessions/get_or_create')
  tokens.push(['get_or_create', goc.body.client_session])
  const pkRaw = await call(server, '/client_sessions/get_or_create', {
    headers: { 'seam-publishable-key': ws.publishable_key },
    body: { user_identifier_key: uniqueKey('secrets_pk') },
  })
  ok(pkRaw, 'get_or_create with the publishable key')
  tokens.push(['get_or_create with a publishable key', pkRaw.body.client_session])
  const pkSeam = await sdkFromPublishableKey(server, ws.publishable_key, uniqueKey('secrets_pk_sdk'))
  tokens.push(['SDK fromPublishableKey', await pkSeam.clientSessions.get()])
  for (const [how, cs] of tokens) {
    assert.match(cs.token, /^seam_cst1/, how)
    secrets.push(secret(`client session token (${round}, ${how})`, cs.token))
  }

  // Each token in each header it is accepted in, through the SDK too.
  for (const [, cs] of tokens) {
    ok(await call(server, '/devices/list', { method: 'GET', token: cs.token }), 'devices/list (Bearer)')
    ok(
      await call(server, '/devices/list', { method: 'GET', headers: { 'client-session-token': cs.token } }),
      'devices/list (client-session-token)',
    )
    ok(
      await call(server, '/client_sessions/get', {
        method: 'GET',
        headers: { 'seam-client-session-token': cs.token },
      }),
      'client_sessions/get (seam-client-session-token)',
    )
  }
  await sdkFromToken(server, tokens[0][1].token).devices.list()

  // Failing requests with real secrets in them.
  const cst = tokens[0][1].token
  const fails = async (what, opts, route = '/devices/list') => {
    const res = await call(server, route, opts)
    assert.ok(res.status >= 400 && res.status < 500, `${what}: expected a 4xx, got ${res.status} ${res.text}`)
  }
  await fails('a client session token on an API-key-only route', { method: 'GET', token: cst }, '/client_sessions/list')
  await fails('an API key in client-session-token', { method: 'GET', headers: { 'client-session-token': apiKey } })
  await fails(
    'an API key with a malformed body',
    { token: apiKey, rawBody: '{"device_id":', headers: { 'content-type': 'application/json' } },
    '/devices/get',
  )
  await fails('an API key on an unknown route', { method: 'GET', token: apiKey }, '/no/such/route')
  await fails('an API key with an unknown parameter', { method: 'GET', token: apiKey, query: { nope: '1' } })
  ok(
    await call(server, '/client_sessions/revoke', {
      token: apiKey,
      body: { client_session_id: tokens[2][1].client_session_id },
    }),
    'client_sessions/revoke',
  )
  await fails('a revoked client session token', { method: 'GET', token: tokens[2][1].token })

  // Near-misses: wrong credentials of the right shape. They are secrets too
  // (a typo of a real key is most of a real key): never logged or stored.
  const wrongApiKey = `seam_${base62(8)}_${base62(32)}`
  const wrongToken = `seam_cst1_${base62(40)}`
  secrets.push(
    secret(`wrong API key (${round})`, wrongApiKey),
    secret(`wrong client session token (${round})`, wrongToken),
  )
  await fails('an unknown API key', { method: 'GET', token: wrongApiKey })
  await fails('an unknown client session token', { method: 'GET', token: wrongToken })
  await fails('an unknown token in client-session-token', {
    method: 'GET',
    headers: { 'client-session-token': wrongToken },
  })

  // Connect webviews: the url carries an auth_token; the login form takes a
  // provider password. One with the API key, one with a client session token.
  const wrongPassword = `pw-${base62(24)}`
  secrets.push({ label: `a wrong password typed into the webview (${round})`, needles: [wrongPassword] })
  for (const [creator, username] of [
    [apiKey, LOGINS.jane],
    [cst, LOGINS.john],
  ]) {
    const res = await call(server, '/connect_webviews/create', {
      token: creator,
      body: { accepted_providers: ['august'] },
    })
    ok(res, 'connect_webviews/create')
    const { url, connect_webview_id } = res.body.connect_webview
    const authToken = new URL(url).searchParams.get('auth_token')
    assert.ok(authToken && authToken.length >= 16, `no auth_token in ${url}`)
    secrets.push(secret(`connect webview auth_token (${round})`, authToken))

    // A wrong auth_token for this webview is refused (and is not logged either).
    const wrongAuth = base62(authToken.length)
    secrets.push(secret(`wrong webview auth_token (${round})`, wrongAuth))
    const forged = new URL(url)
    forged.searchParams.set('auth_token', wrongAuth)
    const refused = await fetch(forged, { redirect: 'manual' })
    await refused.arrayBuffer()
    assert.ok(refused.status >= 400, `a wrong auth_token must be refused, got ${refused.status}`)

    // A wrong password first (the form again), then the right one.
    const { page, provider } = await reachLoginForm(url, 'august')
    assert.equal(page.status, 200)
    const again = await postWebview(url, { provider, username, password: wrongPassword, action: 'login' })
    assert.equal(again.status, 200, `a wrong password shows the form again: ${again.status}`)
    const final = await completeWebview(url, { provider: 'august', username, password: SANDBOX_PASSWORD })
    assert.ok(final.status === 200 || final.status === 303, `completing the webview: ${final.status}`)
    const after = await call(server, '/connect_webviews/get', {
      method: 'GET',
      token: apiKey,
      query: { connect_webview_id },
    })
    ok(after, 'connect_webviews/get')
    assert.equal(after.body.connect_webview.status, 'authorized')
  }
  // The connected accounts work: their locks answer through the provider login.
  const devices = await seam.devices.list()
  assert.ok(devices.length > 0, 'the webviews connected devices')
  return secrets
}

/** Every regular file under dir, recursively: [{ file (relative), bytes }]. */
function filesUnder(dir) {
  const out = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...filesUnder(full).map((f) => ({ ...f, file: path.join(entry.name, f.file) })))
    else if (entry.isFile()) out.push({ file: entry.name, bytes: fs.readFileSync(full) })
  }
  return out
}

const hasBytes = (bytes, needle) => bytes.includes(Buffer.isBuffer(needle) ? needle : Buffer.from(needle, 'latin1'))

/**
 * Where secrets show in clear: in the data dir's files (as raw bytes), in
 * the logs (each { name, text, allowed: needles allowed there }) and in the
 * PostgreSQL database's places (each { name, bytes }). Returns findings, one
 * line each; [] when nothing leaked.
 */
function findLeaks({ dataDir, logs, secrets, database = [] }) {
  const files = filesUnder(dataDir)
  const places = [
    ...files.map((f) => ({ name: `data dir file ${f.file}`, file: f.file, bytes: f.bytes, allowed: [] })),
    ...logs.map((l) => ({ name: l.name, bytes: Buffer.from(l.text, 'utf8'), allowed: l.allowed ?? [] })),
    ...database.map((d) => ({ ...d, allowed: [] })),
  ]
  const leaks = []
  for (const s of secrets) {
    for (const needle of s.needles) {
      for (const p of places) {
        if (!p.allowed.includes(needle) && hasBytes(p.bytes, needle))
          leaks.push(`${s.label} ${needle === s.needles[0] ? '' : '(its random part) '}in ${p.name}`)
      }
    }
  }

  // The server secret: in secret.key and nowhere else (hex either case, or raw).
  const hex = fs.readFileSync(path.join(dataDir, 'secret.key'), 'utf8').trim()
  assert.match(hex, /^[0-9a-f]{64}$/)
  const forms = [hex, hex.toUpperCase(), Buffer.from(hex, 'hex')]
  for (const p of places) {
    if (p.file === 'secret.key') continue
    if (forms.some((f) => hasBytes(p.bytes, f))) leaks.push(`the server secret in ${p.name}`)
  }

  // The sandbox password itself is too short to look for alone without
  // false alarms (it is "1234"): look for it next to what would give it away
  // (a form field, a JSON member, a login).
  const near = new RegExp(
    `(password|passwd|pwd|${Object.values(LOGINS).map((l) => l.replace(/[.@]/g, '\\$&')).join('|')})[^A-Za-z0-9]{0,8}${SANDBOX_PASSWORD}`,
    'i',
  )
  for (const p of places) {
    const m = near.exec(p.bytes.toString('latin1'))
    if (m) leaks.push(`the sandbox password next to "${m[1]}" in ${p.name}`)
  }
  return { leaks, files: files.map((f) => f.file), database: database.map((d) => d.name) }
}

/** The private PostgreSQL cluster of the scans (BACKEND postgres only). */
let pg

/**
 * Where a PostgreSQL database keeps what it was given, as places for
 * findLeaks: a pg_dump of it, the raw files of the database and of the
 * cluster's WAL, and the server's log.
 */
async function postgresPlaces(dataDir) {
  const places = [{ name: 'pg_dump of the database', bytes: await pgDump(dataDir) }]
  const oid = await pgQuery(dataDir, 'SELECT oid FROM pg_database WHERE datname = current_database()')
  for (const [what, dir] of [
    ['database file', path.join(pg.dir, 'data', 'base', oid)],
    ['WAL file', path.join(pg.dir, 'data', 'pg_wal')],
  ]) {
    for (const f of filesUnder(dir)) places.push({ name: `PostgreSQL ${what} ${f.file}`, bytes: f.bytes })
  }
  places.push({ name: "PostgreSQL's log", bytes: fs.readFileSync(path.join(pg.dir, 'log')) })
  return places
}

/**
 * A data dir that the server creates itself (the parent exists, it does not),
 * handed to fn; removed afterwards with its parent.
 */
async function withNewDataDir(fn) {
  const parent = makeDataDir()
  try {
    return await fn(path.join(parent, 'data'))
  } finally {
    removeDir(parent)
  }
}

/**
 * The scenario of the scans: a first start without --seed (its sandbox API
 * key on stdout), secrets issued and used, a clean stop; a second start with
 * --seed on the same dir, more secrets; then `end` (stop or kill). Resolves
 * what findLeaks found.
 */
async function scenario(dataDir, end) {
  const logs = []
  const secrets = []
  const servers = []
  try {
    if (pg) await databaseFor(dataDir, { cluster: pg })
    const first = await startServer({ dataDir, seed: false })
    servers.push(first)
    const shown = BOOTSTRAP_KEY_LINE.exec(await stdoutWhen(first, (out) => BOOTSTRAP_KEY_LINE.test(out)))
    const bootstrapKey = shown[1]
    secrets.push(secret('the sandbox API key of the first start', bootstrapKey))
    ok200(await call(first, '/devices/list', { method: 'GET', token: bootstrapKey }))
    secrets.push(...(await issueAndUse(first, dataDir, 'first start')))
    await first.stop()
    logs.push(
      { name: 'stdout of the first start', text: first.stdout(), allowed: secrets[0].needles },
      { name: 'stderr of the first start', text: first.stderr() },
    )

    const second = await startServer({ dataDir, seed: true })
    servers.push(second)
    ok200(await call(second, '/workspaces/get', { method: 'GET', token: bootstrapKey }))
    secrets.push(...(await issueAndUse(second, dataDir, 'second start')))
    await (end === 'kill' ? second.kill() : second.stop())
    logs.push(
      { name: 'stdout of the second start', text: second.stdout() },
      { name: 'stderr of the second start', text: second.stderr() },
    )
    const database = pg ? await postgresPlaces(dataDir) : []
    return findLeaks({ dataDir, logs, secrets, database })
  } finally {
    for (const s of servers) await s.kill().catch(() => {}) // a failed stop has thrown already
  }
}

const ok200 = (res) => assert.equal(res.status, 200, `${res.status} ${res.text}`)

/** Mode bits of the data dir and each file in it, as findings (expected 0700 / 0600). */
function modeFindings(dataDir, when) {
  const found = []
  const dirMode = fs.statSync(dataDir).mode & 0o777
  if (dirMode !== 0o700) found.push(`${when}: the data dir is ${dirMode.toString(8)}, not 700`)
  for (const name of fs.readdirSync(dataDir)) {
    const st = fs.statSync(path.join(dataDir, name))
    const mode = st.mode & 0o777
    if (st.isFile() && mode !== 0o600) found.push(`${when}: ${name} is ${mode.toString(8)}, not 600`)
  }
  return found
}

/** The database files the server keeps in the data dir: SQLite's; none on PostgreSQL. */
const DB_FILES = BACKEND === 'sqlite' ? ['latchkey.db', 'latchkey.db-wal', 'latchkey.db-shm'] : []

/** On PostgreSQL: the database was scanned, and the server wrote no SQLite file beside it. */
function assertPostgresScanned({ files, database }) {
  assert.ok(!files.includes('latchkey.db'), `latchkey.db in a data dir whose database is PostgreSQL: ${files.join(', ')}`)
  for (const d of ['pg_dump of the database', "PostgreSQL's log"]) assert.ok(database.includes(d), `${d} not scanned`)
  assert.ok(database.some((d) => d.startsWith('PostgreSQL WAL file')), 'no WAL file scanned')
}

describe('secrets at rest and in logs', () => {
  if (BACKEND === 'postgres') {
    before(async () => {
      pg = await startPgCluster()
    })
    after(async () => {
      await pg?.stop()
    })
  }

  it('after a clean stop: no secret in clear in the data dir files or the logs', async () => {
    await withNewDataDir(async (dataDir) => {
      const found = await scenario(dataDir, 'stop')
      const { leaks, files } = found
      if (pg) assertPostgresScanned(found)
      else assert.ok(files.includes('latchkey.db'), `scanned: ${files.join(', ')}`)
      assert.deepEqual(leaks, [], `scanned ${[...files, ...found.database].join(', ')}`)
    })
  })

  it('after SIGKILL (WAL not checkpointed): no secret in clear in the data dir files or the logs', async () => {
    await withNewDataDir(async (dataDir) => {
      const found = await scenario(dataDir, 'kill')
      const { leaks, files } = found
      if (pg) assertPostgresScanned(found)
      for (const f of DB_FILES.slice(0, 2))
        assert.ok(files.includes(f), `${f} must be among the scanned files: ${files.join(', ')}`)
      assert.deepEqual(leaks, [], `scanned ${[...files, ...found.database].join(', ')}`)
    })
  })

  it('the data dir is 0700 and every file in it 0600 (running, stopped, killed)', async () => {
    // Under the usual umask (CI's may be stricter and hide a missing chmod).
    const umask = process.umask(0o022)
    try {
      await withNewDataDir(async (dataDir) => {
        const found = []
        let server = await startServer({ dataDir, seed: true })
        try {
          // Some writes, so that the -wal and -shm files exist.
          await issueAndUse(server, dataDir, 'modes')
          for (const f of [...DB_FILES, 'secret.key'])
            assert.ok(fs.existsSync(path.join(dataDir, f)), `${f} exists while the server runs`)
          found.push(...modeFindings(dataDir, 'while running'))
          await server.stop()
          found.push(...modeFindings(dataDir, 'after a clean stop'))

          server = await startServer({ dataDir, seed: false })
          await issueAndUse(server, dataDir, 'modes after restart')
          await server.kill()
          found.push(...modeFindings(dataDir, 'after SIGKILL'))
        } finally {
          await server.kill().catch(() => {}) // a failed stop has thrown already
        }
        assert.deepEqual(found, [])
      })
    } finally {
      process.umask(umask)
    }
  })

  const sqliteOnly = BACKEND === 'postgres' && 'SQLite files only: on PostgreSQL no database file is in the data dir'
  it('database files an older latchkey left readable by others are made private at start', { skip: sqliteOnly }, async () => {
    await withNewDataDir(async (dataDir) => {
      let server = await startServer({ dataDir, seed: true })
      await server.kill() // the -wal and -shm files stay
      for (const f of ['latchkey.db', 'latchkey.db-wal', 'latchkey.db-shm'])
        if (fs.existsSync(path.join(dataDir, f))) fs.chmodSync(path.join(dataDir, f), 0o644)
      server = await startServer({ dataDir, seed: false })
      try {
        assert.deepEqual(modeFindings(dataDir, 'after a start on 0644 files'), [])
      } finally {
        await server.stop()
      }
    })
  })
})
