// Scope across every route of the devices side: two users of workspace 1
// (each a client session that connected its own sandbox login through its
// own webview), a user of workspace 2, and both workspaces' API keys each try
// to read, list, update, delete and act on the others' objects by id. Every
// attempt is 404 (403 where a token may not use the route at all) or absent
// from lists, and afterwards nothing changed: the full objects, read back
// with the owner's credential, are identical.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import {
  SEED,
  assertError,
  assertOk,
  call,
  callRoute,
  sdkFromApiKey,
  sdkFromToken,
  sdkRejects,
  sleep,
  startServer,
  uniqueKey,
} from './harness.mjs'
import { LOGINS, completeWebview, connectAccount, openWebview } from './webview_flow.mjs'

const DELAY_MS = 100
const EPOCH = '2000-01-01T00:00:00.000Z'
const AK1 = SEED.apiKey1
const AK2 = SEED.apiKey2

let srv
const P = {} // parties by name: A, B (workspace 1 users), C (workspace 2 user), W1, W2 (API keys)

const ok = (res, key) => assertOk(res, key)
const get = (route, token, query) => call(srv, route, { method: 'GET', token, query })
const post = (route, token, body) => call(srv, route, { token, body })

/** A 404 whose type ends in _not_found (exactly `type` when given). */
function notFound(res, type, what) {
  assert.equal(res.status, 404, `${what}: expected 404, got ${res.status}: ${res.text}`)
  const err = assertError(res, 404)
  if (type) assert.equal(err.type, type, `${what}: ${res.text}`)
  else assert.match(err.type, /_not_found$/, `${what}: ${res.text}`)
}

/** A route the attacker may use: 404. A route a token may not use: 403. */
function denied(res, attacker, { akOnly = false, type, what }) {
  if (akOnly && attacker.kind === 'token') {
    assert.equal(res.status, 403, `${what}: a token on an API-key route must be 403, got ${res.status}: ${res.text}`)
    assertError(res, 403)
  } else {
    notFound(res, type, what)
  }
}

/** A list response: 200 without any of `ids` under `key` (by `idKey`). */
function absent(res, key, idKey, ids, what) {
  const body = ok(res, key)
  const found = body[key].map((o) => o[idKey]).filter((id) => ids.includes(id))
  assert.deepEqual(found, [], `${what}: foreign ${idKey}s listed`)
  return body[key]
}

/** The response text never carries the victim's secrets. */
function noSecrets(res, victim, what) {
  for (const secret of [victim.token, victim.webviewUrlToken].filter(Boolean)) {
    assert.ok(!res.text.includes(secret), `${what}: the response leaks a secret of the victim`)
  }
}

async function makeUser(name, apiKey, { provider, username, webviewBy }) {
  const identity = ok(
    await post('/user_identities/create', apiKey, {
      user_identity_key: uniqueKey(`${name}_identity`),
      full_name: `User ${name}`,
    }),
    'user_identity',
  ).user_identity
  const uik = uniqueKey(`user_${name}`)
  const session = ok(
    await post('/client_sessions/create', apiKey, {
      user_identifier_key: uik,
      user_identity_id: identity.user_identity_id,
    }),
    'client_session',
  ).client_session
  let wv
  if (webviewBy === 'token') {
    wv = await connectAccount(srv, session.token, { provider, username })
  } else {
    // Created with the API key and granted to the session before completion.
    const created = ok(
      await post('/connect_webviews/create', apiKey, { accepted_providers: [provider] }),
      'connect_webview',
    ).connect_webview
    ok(
      await post('/client_sessions/grant_access', apiKey, {
        client_session_id: session.client_session_id,
        connect_webview_ids: [created.connect_webview_id],
      }),
    )
    const final = await completeWebview(created.url, { provider, username })
    assert.ok([200, 303].includes(final.status), final.html.slice(0, 300))
    wv = {
      connect_webview_id: created.connect_webview_id,
      url: created.url,
      connected_account_id: ok(
        await get('/connect_webviews/get', apiKey, { connect_webview_id: created.connect_webview_id }),
      ).connect_webview.connected_account_id,
    }
  }
  const devices = ok(await get('/devices/list', session.token, {}), 'devices').devices
  assert.ok(devices.length >= 2, `${name} has devices`)
  for (const d of devices) assert.equal(d.connected_account_id, wv.connected_account_id)
  const [d1, d2] = devices.map((d) => d.device_id)
  // Unique names, so that name lookups can be tried too.
  const deviceName = `${name} Door ${uniqueKey('n')}`
  ok(await post('/devices/update', session.token, { device_id: d1, name: deviceName, custom_metadata: { owner: name } }))
  // One completed action of the user's own.
  const attempt = ok(
    await post('/locks/unlock_door', session.token, { device_id: d1, sync: true }),
    'action_attempt',
  ).action_attempt
  assert.equal(attempt.status, 'success', `${name}'s own unlock`)
  const events = ok(await get('/events/list', apiKey, { since: EPOCH, device_ids: [d1] }), 'events').events
  const unlockedEvent = events.find((e) => e.event_type === 'lock.unlocked')
  assert.ok(unlockedEvent, `${name} has a lock.unlocked event`)
  const accountEvents = ok(
    await get('/events/list', apiKey, { since: EPOCH, connected_account_id: wv.connected_account_id }),
    'events',
  ).events
  const connectedEvent = accountEvents.find((e) => e.event_type === 'connected_account.connected')
  assert.ok(connectedEvent, `${name} has a connected_account.connected event`)
  return {
    name,
    kind: 'token',
    cred: session.token,
    token: session.token,
    apiKey,
    workspace: apiKey === AK1 ? 1 : 2,
    session,
    uik,
    identity,
    webview: wv.connect_webview_id,
    webviewUrl: wv.url,
    webviewUrlToken: new URL(wv.url).searchParams.get('auth_token'),
    account: wv.connected_account_id,
    login: username,
    devices: devices.map((d) => d.device_id),
    d1,
    d2,
    deviceName,
    attempt: attempt.action_attempt_id,
    events: [unlockedEvent.event_id, connectedEvent.event_id],
  }
}

/** Everything about a victim, read with its owner's API key and token. */
async function snapshot(v) {
  const k = v.apiKey
  const s = {}
  for (const id of v.devices) {
    s[`device ${id}`] = ok(await get('/devices/get', k, { device_id: id })).device
    s[`lock ${id}`] = ok(await get('/locks/get', k, { device_id: id })).lock
    s[`attempts of ${id}`] = ok(await get('/action_attempts/list', k, { device_id: id })).action_attempts
  }
  s.account = ok(await get('/connected_accounts/get', k, { connected_account_id: v.account })).connected_account
  s.webview = ok(await get('/connect_webviews/get', k, { connect_webview_id: v.webview })).connect_webview
  s.attempt = ok(await get('/action_attempts/get', k, { action_attempt_id: v.attempt })).action_attempt
  s.identity = ok(await get('/user_identities/get', k, { user_identity_id: v.identity.user_identity_id })).user_identity
  s.session = ok(await get('/client_sessions/get', k, { client_session_id: v.session.client_session_id })).client_session
  // (client_session.deleted events come from the sessions this test deletes itself)
  s.workspaceEvents = ok(await get('/events/list', k, { since: EPOCH })).events.filter(
    (e) => e.event_type !== 'client_session.deleted',
  )
  s.tokenDevices = ok(await get('/devices/list', v.token, {})).devices
  s.tokenEvents = ok(await get('/events/list', v.token, { since: EPOCH })).events
  s.accounts = ok(await get('/connected_accounts/list', k, {})).connected_accounts
  s.webviews = ok(await get('/connect_webviews/list', k, {})).connect_webviews
  s.identities = ok(await get('/user_identities/list', k, {})).user_identities
  return s
}

const before_ = {}

before(async () => {
  srv = await startServer({ args: ['--action-delay-ms', String(DELAY_MS)] })
  P.A = await makeUser('A', AK1, { provider: 'august', username: LOGINS.jane, webviewBy: 'token' })
  P.B = await makeUser('B', AK1, { provider: 'schlage', username: LOGINS.john, webviewBy: 'api_key' })
  // Workspace 2's user connects the same login as A: another account, other devices.
  P.C = await makeUser('C', AK2, { provider: 'august', username: LOGINS.jane, webviewBy: 'token' })
  P.W1 = { name: 'workspace 1 API key', kind: 'api_key', cred: AK1, workspace: 1 }
  P.W2 = { name: 'workspace 2 API key', kind: 'api_key', cred: AK2, workspace: 2 }
  for (const v of ['A', 'B', 'C']) before_[v] = await snapshot(P[v])
})

after(async () => {
  await srv?.stop()
})

describe('the setup is what it claims (the owners see their own objects)', () => {
  it('three users with distinct accounts and devices; C connected the same login as A', async () => {
    assert.notEqual(P.A.account, P.B.account)
    assert.notEqual(P.A.account, P.C.account)
    assert.equal(P.A.login, P.C.login)
    for (const id of P.A.devices) assert.ok(!P.B.devices.includes(id) && !P.C.devices.includes(id))
    for (const v of ['A', 'B', 'C']) {
      const s = before_[v]
      assert.equal(s.account.connected_account_id, P[v].account)
      assert.equal(s.webview.status, 'authorized')
      assert.equal(s.attempt.status, 'success')
      assert.deepEqual(
        s.tokenDevices.map((d) => d.device_id).sort(),
        [...P[v].devices].sort(),
        `${v}'s token sees exactly its devices`,
      )
      assert.ok(s.session.connected_account_ids.includes(P[v].account))
      assert.ok(s.session.connect_webview_ids.includes(P[v].webview))
      assert.equal(s.session.device_count, P[v].devices.length)
    }
    // The owners' tokens reach their objects on every scoped route.
    for (const v of ['A', 'B', 'C']) {
      const t = P[v].token
      ok(await get('/devices/get', t, { device_id: P[v].d1 }))
      ok(await get('/devices/get', t, { name: P[v].deviceName }))
      ok(await get('/locks/get', t, { device_id: P[v].d1 }))
      ok(await get('/connected_accounts/get', t, { connected_account_id: P[v].account }))
      ok(await get('/connect_webviews/get', t, { connect_webview_id: P[v].webview }))
      ok(await get('/action_attempts/get', t, { action_attempt_id: P[v].attempt }))
      for (const e of P[v].events) ok(await get('/events/get', t, { event_id: e }))
    }
  })
})

// Who attacks whom: every user the other users, each API key the other workspace.
const PAIRS = [
  ['A', 'B'],
  ['B', 'A'],
  ['A', 'C'],
  ['B', 'C'],
  ['C', 'A'],
  ['C', 'B'],
  ['W2', 'A'],
  ['W2', 'B'],
  ['W1', 'C'],
]

for (const [an, vn] of PAIRS) {
  describe(`${an} against ${vn}'s objects`, () => {
    const A = () => P[an]
    const V = () => P[vn]

    it('devices/get by id and by name: 404', async () => {
      const a = A()
      const v = V()
      for (const id of v.devices) {
        notFound(await get('/devices/get', a.cred, { device_id: id }), 'device_not_found', `devices/get ${id}`)
        notFound(await post('/devices/get', a.cred, { device_id: id }), 'device_not_found', `POST devices/get ${id}`)
      }
      notFound(await get('/devices/get', a.cred, { name: v.deviceName }), 'device_not_found', 'devices/get by name')
      const seam = a.kind === 'token' ? sdkFromToken(srv, a.cred) : sdkFromApiKey(srv, a.cred)
      await sdkRejects(seam.devices.get({ device_id: v.d1 }), 404)
    })

    it('devices/list: none of the victim devices, whatever the filter', async () => {
      const a = A()
      const v = V()
      const what = 'devices/list'
      absent(await get('/devices/list', a.cred, {}), 'devices', 'device_id', v.devices, what)
      for (const query of [
        { device_ids: v.devices },
        { connected_account_id: v.account },
        { connected_account_ids: [v.account] },
        { connect_webview_id: v.webview },
        { search: v.deviceName },
        { 'custom_metadata_has.owner': v.name },
      ]) {
        const res = await get('/devices/list', a.cred, query)
        // Filters naming foreign objects: an empty list, or refused outright.
        if (res.status === 200) {
          absent(res, 'devices', 'device_id', v.devices, `${what} ${JSON.stringify(query)}`)
        } else {
          assert.ok([400, 404].includes(res.status), `${what} ${JSON.stringify(query)}: ${res.status}`)
        }
      }
      absent(
        await post('/devices/list', a.cred, { custom_metadata_has: { owner: v.name } }),
        'devices',
        'device_id',
        v.devices,
        `${what} custom_metadata_has`,
      )
    })

    it("devices/list with the victim's user_identifier_key shows none of the victim's devices", async () => {
      const a = A()
      const v = V()
      const res = await get('/devices/list', a.cred, { user_identifier_key: v.uik })
      if (res.status === 200) {
        absent(res, 'devices', 'device_id', v.devices, 'devices/list user_identifier_key')
        if (a.kind === 'api_key') assert.deepEqual(res.body.devices, [], 'an unknown key in this workspace: empty')
      } else {
        assert.ok([400, 403, 404].includes(res.status), `${res.status}: ${res.text}`)
      }
      const seam = a.kind === 'token' ? sdkFromToken(srv, a.cred) : sdkFromApiKey(srv, a.cred)
      let listed = []
      try {
        listed = await seam.devices.list({ user_identifier_key: v.uik })
      } catch {}
      for (const d of listed) assert.ok(!v.devices.includes(d.device_id), 'SDK devices.list with a foreign key')
      // Also with the header the SDK uses for publishable keys.
      const hdr = await call(srv, '/devices/list', {
        method: 'GET',
        token: a.cred,
        headers: { 'seam-user-identifier-key': v.uik },
      })
      if (hdr.status === 200) absent(hdr, 'devices', 'device_id', v.devices, 'devices/list with the header')
      // locks/list and connect_webviews/list the same way.
      const locks = await get('/locks/list', a.cred, { user_identifier_key: v.uik })
      if (locks.status === 200) absent(locks, 'locks', 'device_id', v.devices, 'locks/list user_identifier_key')
      const wvs = await get('/connect_webviews/list', a.cred, { user_identifier_key: v.uik })
      if (wvs.status === 200) {
        absent(wvs, 'connect_webviews', 'connect_webview_id', [v.webview], 'connect_webviews/list user_identifier_key')
      }
    })

    it('devices/update: 404', async () => {
      const a = A()
      const v = V()
      for (const id of [v.d1, v.d2]) {
        denied(
          await post('/devices/update', a.cred, { device_id: id, name: 'Pwned', custom_metadata: { pwned: true } }),
          a,
          { type: 'device_not_found', what: `devices/update ${id}` },
        )
        denied(
          await call(srv, '/devices/update', {
            method: 'PATCH',
            token: a.cred,
            body: { device_id: id, name: 'Pwned' },
          }),
          a,
          { type: 'device_not_found', what: `PATCH devices/update ${id}` },
        )
      }
    })

    it('devices/delete: 403 for a token, 404 for an API key', async () => {
      const a = A()
      const v = V()
      denied(await post('/devices/delete', a.cred, { device_id: v.d2 }), a, {
        akOnly: true,
        type: 'device_not_found',
        what: 'devices/delete',
      })
      denied(
        await call(srv, '/devices/delete', { method: 'DELETE', token: a.cred, query: { device_id: v.d2 } }),
        a,
        { akOnly: true, type: 'device_not_found', what: 'DELETE devices/delete' },
      )
    })

    it('locks/get and locks/list: 404 and absent', async () => {
      const a = A()
      const v = V()
      for (const id of v.devices) {
        notFound(await get('/locks/get', a.cred, { device_id: id }), 'device_not_found', `locks/get ${id}`)
      }
      notFound(await get('/locks/get', a.cred, { name: v.deviceName }), 'device_not_found', 'locks/get by name')
      absent(await get('/locks/list', a.cred, {}), 'locks', 'device_id', v.devices, 'locks/list')
      const filtered = await get('/locks/list', a.cred, { device_ids: v.devices })
      if (filtered.status === 200) absent(filtered, 'locks', 'device_id', v.devices, 'locks/list device_ids')
      const byAccount = await get('/locks/list', a.cred, { connected_account_id: v.account })
      if (byAccount.status === 200) absent(byAccount, 'locks', 'device_id', v.devices, 'locks/list account')
    })

    it('locks/lock_door and unlock_door (async and sync): 404', async () => {
      const a = A()
      const v = V()
      for (const route of ['/locks/lock_door', '/locks/unlock_door']) {
        for (const id of [v.d1, v.d2]) {
          notFound(await post(route, a.cred, { device_id: id }), 'device_not_found', `${route} ${id}`)
          notFound(await post(route, a.cred, { device_id: id, sync: true }), 'device_not_found', `${route} sync ${id}`)
        }
      }
      const seam = a.kind === 'token' ? sdkFromToken(srv, a.cred) : sdkFromApiKey(srv, a.cred)
      await sdkRejects(seam.locks.unlockDoor({ device_id: v.d1 }), 404)
      await sdkRejects(seam.locks.lockDoor({ device_id: v.d1 }), 404)
    })

    it("action_attempts/get of the victim's attempt: 404; action_attempts/list: 403 or absent", async () => {
      const a = A()
      const v = V()
      notFound(
        await get('/action_attempts/get', a.cred, { action_attempt_id: v.attempt }),
        'action_attempt_not_found',
        'action_attempts/get',
      )
      notFound(
        await post('/action_attempts/get', a.cred, { action_attempt_id: v.attempt }),
        'action_attempt_not_found',
        'POST action_attempts/get',
      )
      const byIds = await get('/action_attempts/list', a.cred, { action_attempt_ids: [v.attempt] })
      const byDevice = await get('/action_attempts/list', a.cred, { device_id: v.d1 })
      const all = await get('/action_attempts/list', a.cred, {})
      if (a.kind === 'token') {
        for (const r of [byIds, byDevice, all]) assertError(r, 403)
      } else {
        absent(byIds, 'action_attempts', 'action_attempt_id', [v.attempt], 'action_attempts/list ids')
        if (byDevice.status === 200) {
          absent(byDevice, 'action_attempts', 'action_attempt_id', [v.attempt], 'action_attempts/list device')
        } else {
          notFound(byDevice, undefined, 'action_attempts/list device_id')
        }
        absent(all, 'action_attempts', 'action_attempt_id', [v.attempt], 'action_attempts/list')
      }
    })

    it("events/get of the victim's events: 404; events/list filtered by the victim's ids: empty", async () => {
      const a = A()
      const v = V()
      for (const id of v.events) {
        notFound(await get('/events/get', a.cred, { event_id: id }), 'event_not_found', `events/get ${id}`)
      }
      absent(await get('/events/list', a.cred, { since: EPOCH }), 'events', 'event_id', v.events, 'events/list')
      for (const query of [
        { device_ids: [v.d1] },
        { device_ids: v.devices },
        { connected_account_id: v.account },
        { connect_webview_id: v.webview },
      ]) {
        const res = await get('/events/list', a.cred, { since: EPOCH, ...query })
        if (res.status === 200) {
          const listed = ok(res, 'events').events
          assert.deepEqual(listed, [], `events/list ${JSON.stringify(query)} lists foreign events`)
        } else {
          assert.ok([400, 404].includes(res.status), `events/list ${JSON.stringify(query)}: ${res.status}`)
        }
      }
      // events/get by device_id + event_type (the other form of the route).
      const byDevice = await get('/events/get', a.cred, { device_id: v.d1, event_type: 'lock.unlocked' })
      assert.notEqual(byDevice.status, 200, `events/get by the victim's device_id: ${byDevice.text}`)
    })

    it('connected_accounts/get: 404; list, update, delete: 403 for a token, 404/absent for an API key', async () => {
      const a = A()
      const v = V()
      notFound(
        await get('/connected_accounts/get', a.cred, { connected_account_id: v.account }),
        'connected_account_not_found',
        'connected_accounts/get',
      )
      const byEmail = await get('/connected_accounts/get', a.cred, { email: v.login })
      if (byEmail.status === 200) {
        assert.notEqual(byEmail.body.connected_account.connected_account_id, v.account, 'get by email')
      }
      const list = await get('/connected_accounts/list', a.cred, {})
      if (a.kind === 'token') assertError(list, 403)
      else absent(list, 'connected_accounts', 'connected_account_id', [v.account], 'connected_accounts/list')
      const byUik = await get('/connected_accounts/list', a.cred, { user_identifier_key: v.uik })
      if (a.kind === 'token') assertError(byUik, 403)
      else assert.deepEqual(ok(byUik).connected_accounts, [])
      denied(
        await post('/connected_accounts/update', a.cred, {
          connected_account_id: v.account,
          custom_metadata: { pwned: true },
        }),
        a,
        { akOnly: true, type: 'connected_account_not_found', what: 'connected_accounts/update' },
      )
      denied(
        await post('/connected_accounts/delete', a.cred, { connected_account_id: v.account }),
        a,
        { akOnly: true, type: 'connected_account_not_found', what: 'connected_accounts/delete' },
      )
    })

    it('connect_webviews/get: 404; list: absent; delete: 403 for a token, 404 for an API key', async () => {
      const a = A()
      const v = V()
      const res = await get('/connect_webviews/get', a.cred, { connect_webview_id: v.webview })
      notFound(res, 'connect_webview_not_found', 'connect_webviews/get')
      noSecrets(res, v, 'connect_webviews/get')
      const list = await get('/connect_webviews/list', a.cred, {})
      absent(list, 'connect_webviews', 'connect_webview_id', [v.webview], 'connect_webviews/list')
      noSecrets(list, v, 'connect_webviews/list')
      denied(await post('/connect_webviews/delete', a.cred, { connect_webview_id: v.webview }), a, {
        akOnly: true,
        type: 'connect_webview_not_found',
        what: 'connect_webviews/delete',
      })
    })

    it('user_identities: 403 for a token; another workspace 404 and absent', async () => {
      const a = A()
      const v = V()
      const id = v.identity.user_identity_id
      const tries = [
        ['get', await get('/user_identities/get', a.cred, { user_identity_id: id })],
        ['get by key', await get('/user_identities/get', a.cred, { user_identity_key: v.identity.user_identity_key })],
        ['update', await post('/user_identities/update', a.cred, { user_identity_id: id, full_name: 'Pwned' })],
        ['delete', await post('/user_identities/delete', a.cred, { user_identity_id: id })],
      ]
      for (const [what, res] of tries) {
        if (a.kind === 'token') assertError(res, 403)
        else if (a.workspace !== v.workspace) notFound(res, 'user_identity_not_found', `user_identities/${what}`)
      }
      const list = await get('/user_identities/list', a.cred, {})
      if (a.kind === 'token') assertError(list, 403)
      else absent(list, 'user_identities', 'user_identity_id', [id], 'user_identities/list')
    })

    it('client sessions: no reading the victim session, no granting its objects across workspaces', async () => {
      const a = A()
      const v = V()
      const res = await get('/client_sessions/get', a.cred, { client_session_id: v.session.client_session_id })
      noSecrets(res, v, 'client_sessions/get')
      if (res.status === 200) {
        assert.notEqual(res.body.client_session.client_session_id, v.session.client_session_id)
      } else {
        assert.ok([403, 404].includes(res.status), `client_sessions/get: ${res.status}`)
      }
      const byKey = await get('/client_sessions/get', a.cred, { user_identifier_key: v.uik })
      noSecrets(byKey, v, 'client_sessions/get by key')
      if (byKey.status === 200) assert.notEqual(byKey.body.client_session.client_session_id, v.session.client_session_id)
      if (a.kind === 'api_key') {
        // Granting the victim's objects to a session of the attacker's workspace is refused.
        const mine = ok(
          await post('/client_sessions/create', a.cred, { user_identifier_key: uniqueKey('thief') }),
          'client_session',
        ).client_session
        for (const body of [
          { connected_account_ids: [v.account] },
          { connect_webview_ids: [v.webview] },
          { user_identity_id: v.identity.user_identity_id },
        ]) {
          const granted = await post('/client_sessions/grant_access', a.cred, {
            client_session_id: mine.client_session_id,
            ...body,
          })
          assert.ok([400, 404].includes(granted.status), `grant_access ${JSON.stringify(body)}: ${granted.status}`)
          const created = await post('/client_sessions/create', a.cred, {
            user_identifier_key: uniqueKey('thief'),
            ...body,
          })
          assert.ok([400, 404].includes(created.status), `create ${JSON.stringify(body)}: ${created.status}`)
        }
        // And the thief session sees nothing of the victim's.
        const seen = ok(await get('/devices/list', mine.token, {})).devices
        assert.deepEqual(seen, [])
        // Granting to the victim's session (another workspace) is refused.
        const intoVictim = await post('/client_sessions/grant_access', a.cred, {
          client_session_id: v.session.client_session_id,
          connected_account_ids: [],
        })
        assert.ok([400, 404].includes(intoVictim.status), `grant_access into a foreign session: ${intoVictim.status}`)
      }
    })

    it("the victim's webview page, the secret aside, is not reachable by id alone", async () => {
      const v = V()
      const u = new URL(v.webviewUrl)
      u.searchParams.delete('auth_token')
      const page = await openWebview(u.href)
      assert.equal(page.status, 404)
    })
  })
}

describe('page cursors replayed by someone else show nothing of the first party', () => {
  const replays = [
    // [route, list key, id key, owner party, replaying party, query]
    ['/devices/list', 'devices', 'device_id', 'A', 'B', {}],
    ['/devices/list', 'devices', 'device_id', 'C', 'A', {}],
    ['/connect_webviews/list', 'connect_webviews', 'connect_webview_id', 'W1', 'W2', {}],
    ['/connected_accounts/list', 'connected_accounts', 'connected_account_id', 'W1', 'W2', {}],
    ['/user_identities/list', 'user_identities', 'user_identity_id', 'W1', 'W2', {}],
    ['/action_attempts/list', 'action_attempts', 'action_attempt_id', 'W1', 'W2', {}],
    ['/connected_accounts/list', 'connected_accounts', 'connected_account_id', 'W2', 'W1', {}],
  ]
  for (const [route, key, idKey, on, rn, query] of replays) {
    it(`${route}: ${on}'s cursor replayed by ${rn}`, async () => {
      const owner = P[on]
      const replayer = P[rn]
      const ownIds = ok(await get(route, owner.cred, query))[key].map((o) => o[idKey])
      const first = ok(await get(route, owner.cred, { ...query, limit: 1 }))
      if (!first.pagination?.has_next_page) return // nothing to replay
      const res = await get(route, replayer.cred, { ...query, limit: 1, page_cursor: first.pagination.next_page_cursor })
      if (res.status === 200) {
        const theirs = ok(await get(route, replayer.cred, query))[key].map((o) => o[idKey])
        for (const o of res.body[key]) {
          assert.ok(!ownIds.includes(o[idKey]) || theirs.includes(o[idKey]), `${route} leaked ${o[idKey]}`)
        }
      } else {
        assert.equal(res.status, 400, `${route}: ${res.status} ${res.text}`)
      }
    })
  }
})

/** Every route of this slice with a request aimed at user A's objects. */
const ROUTES = () => [
  ['POST', '/connect_webviews/create', { accepted_providers: ['august'] }],
  ['GET', '/connect_webviews/get', { connect_webview_id: P.A.webview }],
  ['GET', '/connect_webviews/list', {}],
  ['POST', '/connect_webviews/delete', { connect_webview_id: P.A.webview }],
  ['GET', '/connected_accounts/get', { connected_account_id: P.A.account }],
  ['GET', '/connected_accounts/list', {}],
  ['POST', '/connected_accounts/update', { connected_account_id: P.A.account, custom_metadata: { x: 'y' } }],
  ['POST', '/connected_accounts/delete', { connected_account_id: P.A.account }],
  ['POST', '/devices/update', { device_id: P.A.d1, name: 'Pwned' }],
  ['POST', '/devices/delete', { device_id: P.A.d2 }],
  ['GET', '/devices/list_device_providers', {}],
  ['GET', '/locks/get', { device_id: P.A.d1 }],
  ['GET', '/locks/list', {}],
  ['POST', '/locks/lock_door', { device_id: P.A.d1 }],
  ['POST', '/locks/unlock_door', { device_id: P.A.d2 }],
  ['GET', '/action_attempts/get', { action_attempt_id: P.A.attempt }],
  ['GET', '/action_attempts/list', {}],
  ['GET', '/events/get', { event_id: P.A.events[0] }],
  ['GET', '/events/list', { since: EPOCH }],
  ['POST', '/user_identities/create', { full_name: 'Intruder' }],
  ['GET', '/user_identities/get', { user_identity_id: P.A.identity.user_identity_id }],
  ['GET', '/user_identities/list', {}],
  ['POST', '/user_identities/update', { user_identity_id: P.A.identity.user_identity_id, full_name: 'Pwned' }],
  ['POST', '/user_identities/delete', { user_identity_id: P.A.identity.user_identity_id }],
]

describe("credentials that may not reach user A's objects at all", () => {
  it('no credential: 401 on every route', async () => {
    for (const [method, route, params] of ROUTES()) {
      assertError(await callRoute(srv, method, route, params, {}), 401)
    }
  })

  it('a publishable key: 403 on every route', async () => {
    for (const [method, route, params] of ROUTES()) {
      const res = await callRoute(srv, method, route, params, {
        headers: { 'seam-publishable-key': SEED.publishableKey1, 'seam-user-identifier-key': P.A.uik },
      })
      assert.equal(res.status, 403, `${route}: ${res.status} ${res.text}`)
      assertError(res, 403)
    }
  })

  it("a revoked token that held A's account: 401 client_session_revoked on every route", async () => {
    const held = ok(
      await post('/client_sessions/create', AK1, {
        user_identifier_key: uniqueKey('revoked'),
        connected_account_ids: [P.A.account],
        connect_webview_ids: [P.A.webview],
      }),
    ).client_session
    // While live it reaches A's device (so the 401s below are the revocation's doing).
    ok(await get('/devices/get', held.token, { device_id: P.A.d1 }))
    ok(await post('/client_sessions/revoke', AK1, { client_session_id: held.client_session_id }))
    for (const [method, route, params] of ROUTES()) {
      assertError(await callRoute(srv, method, route, params, { token: held.token }), 401, 'client_session_revoked')
    }
  })

  it("a deleted session's token that held A's account: 401 on every route", async () => {
    const held = ok(
      await post('/client_sessions/create', AK1, {
        user_identifier_key: uniqueKey('deleted'),
        connected_account_ids: [P.A.account],
      }),
    ).client_session
    ok(await post('/client_sessions/delete', AK1, { client_session_id: held.client_session_id }))
    for (const [method, route, params] of ROUTES()) {
      assertError(await callRoute(srv, method, route, params, { token: held.token }), 401)
    }
  })
})

describe('afterwards', () => {
  it("nothing changed: every victim object is identical, read with the owner's credentials", async () => {
    await sleep(DELAY_MS * 5) // any action that slipped through would have completed
    for (const v of ['A', 'B', 'C']) {
      const now = await snapshot(P[v])
      for (const key of Object.keys(before_[v])) {
        assert.deepEqual(now[key], before_[v][key], `${v}: ${key} changed`)
      }
    }
  })
})

// Last (after the comparison above), because a server that mishandles the
// singular filters may not survive them.
describe('events/list with the singular device_id / event_type filters', () => {
  for (const [an, vn] of PAIRS) {
    it(`${an} filtering by ${vn}'s device id gets no events`, async () => {
      const a = P[an]
      const v = P[vn]
      for (const query of [{ device_id: v.d1 }, { device_id: v.d1, event_type: 'lock.unlocked' }]) {
        const res = await get('/events/list', a.cred, { since: EPOCH, ...query })
        if (res.status === 200) assert.deepEqual(ok(res, 'events').events, [], JSON.stringify(query))
        else assert.ok([400, 404].includes(res.status), `${JSON.stringify(query)}: ${res.status}`)
      }
    })
  }
})
