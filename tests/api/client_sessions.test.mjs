// client_sessions/ routes (shared/API.md "Client sessions"): create (POST vs
// PUT), get, list and its filters, get_or_create, grant_access, revoke,
// delete, and device_count, through raw requests and the SDK.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import {
  ALL_DEVICES,
  JANE_DEVICES,
  JOHN_DEVICES,
  SANITIZED,
  SEED,
  assertError,
  assertInvalidInput,
  assertOk,
  call,
  createSession,
  getSession,
  isUuid,
  listDeviceIds,
  listSessions,
  revokeSession,
  sdkFromApiKey,
  sdkFromToken,
  sdkRejects,
  sleep,
  uniqueKey,
  useServer,
  withServer,
} from './harness.mjs'

const srv = useServer()
const AK = SEED.apiKey1

const create = (body, method = 'POST', server = srv) => createSession(server, AK, body, { method })
const getById = (id) => getSession(srv, AK, { client_session_id: id })
const devicesOf = (token) => listDeviceIds(srv, token)
const revoke = (cs) => revokeSession(srv, AK, cs.client_session_id)
const list = (query) => listSessions(srv, AK, query)

/** PATCH client_sessions/grant_access with the API key; resolves to the raw response. */
const grantAccess = (body) =>
  call(srv, '/client_sessions/grant_access', { method: 'PATCH', token: AK, body })

/**
 * A route that would make a session for a new user (uniqueKey(label)) with
 * `fields` refuses as invalid_input naming `param`, and nothing is created.
 */
async function assertRefusedForNewUser(route, label, fields, param) {
  const uik = uniqueKey(label)
  const res = await call(srv, route, { token: AK, body: { user_identifier_key: uik, ...fields } })
  assertInvalidInput(res, param)
  assert.deepEqual(await list({ user_identifier_key: uik }), [])
}

const ids = (sessions) => sessions.map((s) => s.client_session_id)

describe('client_sessions/create', () => {
  it('creates a session with a real UUID, a working token and the workspace', async () => {
    const uik = uniqueKey()
    const cs = await create({ user_identifier_key: uik })
    assert.ok(isUuid(cs.client_session_id), cs.client_session_id)
    assert.equal(cs.workspace_id, SEED.workspace1)
    assert.equal(cs.user_identifier_key, uik)
    assert.match(cs.token, /^seam_cst/)
    assert.deepEqual(cs.connected_account_ids, [])
    assert.deepEqual(cs.connect_webview_ids, [])
    assert.equal(cs.device_count, 0)
    assert.ok(Date.parse(cs.expires_at) > Date.parse(cs.created_at))
    assert.deepEqual(await devicesOf(cs.token), [])
  })

  it('tokens are unique and long enough to carry 128 random bits', async () => {
    const a = await create()
    const b = await create()
    assert.notEqual(a.token, b.token)
    assert.notEqual(a.client_session_id, b.client_session_id)
    // base62 after the seam_cst prefix: 22 characters carry 128 bits.
    assert.ok(a.token.replace(/^seam_cst1?_?/, '').length >= 22, a.token)
  })

  it('with connected_account_ids the token sees those devices', async () => {
    const cs = await create({ connected_account_ids: [SEED.johnAccount] })
    assert.deepEqual(cs.connected_account_ids, [SEED.johnAccount])
    assert.equal(cs.device_count, 4)
    assert.deepEqual(await devicesOf(cs.token), JOHN_DEVICES)
  })

  it("with connect_webview_ids the token sees the webview's account's devices", async () => {
    const cs = await create({ connect_webview_ids: [SEED.webview1] })
    assert.deepEqual(cs.connect_webview_ids, [SEED.webview1])
    assert.equal(cs.device_count, 4)
    assert.deepEqual(await devicesOf(cs.token), JOHN_DEVICES)
  })

  it('with user_identity_id the session names the identity', async () => {
    const cs = await create({ user_identity_id: SEED.johnIdentity })
    assert.equal(cs.user_identity_id, SEED.johnIdentity)
    assert.deepEqual(cs.user_identity_ids, [SEED.johnIdentity])
  })

  it('the deprecated one-element user_identity_ids names the identity too', async () => {
    const cs = await create({ user_identity_ids: [SEED.johnIdentity] })
    assert.equal(cs.user_identity_id, SEED.johnIdentity)
    assert.deepEqual(cs.user_identity_ids, [SEED.johnIdentity])
  })

  it('customer_key is kept and shown', async () => {
    const cs = await create({ customer_key: 'customer_42' })
    assert.equal(cs.customer_key, 'customer_42')
    const got = assertOk(await getById(cs.client_session_id)).client_session
    assert.equal(got.customer_key, 'customer_42')
  })

  it('customer_id names the customer too (latchkey knows customers by key)', async () => {
    const cs = await create({ customer_id: 'customer_43' })
    assert.equal(cs.customer_key, 'customer_43')
    const both = await call(srv, '/client_sessions/create', {
      token: AK,
      body: { customer_key: 'customer_43', customer_id: 'customer_44' },
    })
    assertInvalidInput(both, 'customer_id')
    const pk = await call(srv, '/client_sessions/create', {
      headers: { 'seam-publishable-key': SEED.publishableKey1 },
      body: { user_identifier_key: uniqueKey(), customer_id: 'customer_45' },
    })
    assert.equal(pk.status, 403, pk.text)
  })

  it('without user_identifier_key: each call is a new session with a null key', async () => {
    const res1 = await call(srv, '/client_sessions/create', { token: AK, body: {} })
    const res2 = await call(srv, '/client_sessions/create', { token: AK, body: {} })
    const a = assertOk(res1).client_session
    const b = assertOk(res2).client_session
    assert.notEqual(a.client_session_id, b.client_session_id)
    assert.equal(a.user_identifier_key, null)
    assert.equal(b.user_identifier_key, null)
  })

  it('POST with a user_identifier_key that has a session: 400 client_session_token_already_exists', async () => {
    const cs = await create()
    const res = await call(srv, '/client_sessions/create', {
      token: AK,
      body: { user_identifier_key: cs.user_identifier_key },
    })
    assertError(res, 400, 'client_session_token_already_exists')
    assert.deepEqual(ids(await list({ user_identifier_key: cs.user_identifier_key })), [
      cs.client_session_id,
    ])
  })

  it('PUT with a user_identifier_key that has a session returns that session (same id and token)', async () => {
    const cs = await create({}, 'PUT')
    const again = await create({ user_identifier_key: cs.user_identifier_key }, 'PUT')
    assert.equal(again.client_session_id, cs.client_session_id)
    assert.equal(again.token, cs.token)
    assert.deepEqual(ids(await list({ user_identifier_key: cs.user_identifier_key })), [
      cs.client_session_id,
    ])
  })

  it('the SDK create (PUT) twice for one user returns the same session', async () => {
    const seam = sdkFromApiKey(srv, AK)
    const uik = uniqueKey('sdk')
    const a = await seam.clientSessions.create({ user_identifier_key: uik })
    const b = await seam.clientSessions.create({ user_identifier_key: uik })
    assert.equal(b.client_session_id, a.client_session_id)
    assert.equal(b.token, a.token)
  })

  it('ids that are not in the workspace are rejected with invalid_input naming them', async () => {
    const uik = uniqueKey('bad_ids')
    const cases = [
      [{ connected_account_ids: [SEED.johnAccount, 'no_such_account'] }, 'connected_account_ids'],
      [{ connect_webview_ids: ['00000000-0000-4000-8000-000000000000'] }, 'connect_webview_ids'],
      [{ user_identity_id: 'no_such_identity' }, 'user_identity_id'],
    ]
    for (const [grant, param] of cases) {
      const res = await call(srv, '/client_sessions/create', {
        token: AK,
        body: { user_identifier_key: uik, ...grant },
      })
      assertInvalidInput(res, param)
    }
    assert.deepEqual(await list({ user_identifier_key: uik }), [], 'nothing must be created')
  })

  it('expires_at in the past is rejected (invalid_input naming expires_at)', async () => {
    const past = new Date(Date.now() - 60_000).toISOString()
    await assertRefusedForNewUser('/client_sessions/create', 'past', { expires_at: past }, 'expires_at')
  })

  it('expires_at that is not a date-time is rejected naming expires_at', async () => {
    const res = await call(srv, '/client_sessions/create', {
      token: AK,
      body: { user_identifier_key: uniqueKey(), expires_at: 'next tuesday' },
    })
    assertInvalidInput(res, 'expires_at')
  })

  it('expires_at in the future is kept as given', async () => {
    const expiresAt = new Date(Date.now() + 3 * 3600_000).toISOString()
    const cs = await create({ expires_at: expiresAt })
    assert.equal(Date.parse(cs.expires_at), Date.parse(expiresAt))
  })

  it('without expires_at the default lifetime applies (--client-session-lifetime 3600)', () =>
    withServer({ args: ['--client-session-lifetime', '3600'] }, async (other) => {
      const cs = await create({}, 'POST', other)
      assert.equal(Date.parse(cs.expires_at) - Date.parse(cs.created_at), 3600 * 1000)
      const res = await call(other, '/client_sessions/get_or_create', {
        token: AK,
        body: { user_identifier_key: uniqueKey('lifetime') },
      })
      const goc = assertOk(res).client_session
      assert.equal(Date.parse(goc.expires_at) - Date.parse(goc.created_at), 3600 * 1000)
    }))

  it('the default lifetime also comes from LATCHKEY_CLIENT_SESSION_LIFETIME', () =>
    withServer({ env: { LATCHKEY_CLIENT_SESSION_LIFETIME: '120' } }, async (other) => {
      const cs = await create({}, 'POST', other)
      assert.equal(Date.parse(cs.expires_at) - Date.parse(cs.created_at), 120 * 1000)
    }))
})

describe('client_sessions/get', () => {
  it('by client_session_id (API key)', async () => {
    const cs = await create({ connected_account_ids: [SEED.johnAccount] })
    const got = assertOk(await getById(cs.client_session_id), 'client_session').client_session
    assert.deepEqual(got, cs)
  })

  it('by user_identifier_key (API key)', async () => {
    const cs = await create()
    const res = await getSession(srv, AK, { user_identifier_key: cs.user_identifier_key })
    assert.equal(assertOk(res).client_session.client_session_id, cs.client_session_id)
  })

  it('by POST with a JSON body', async () => {
    const cs = await create()
    const res = await call(srv, '/client_sessions/get', {
      token: AK,
      body: { client_session_id: cs.client_session_id },
    })
    assert.equal(assertOk(res).client_session.token, cs.token)
  })

  it('through the SDK, by id and by user_identifier_key', async () => {
    const cs = await create()
    const seam = sdkFromApiKey(srv, AK)
    const a = await seam.clientSessions.get({ client_session_id: cs.client_session_id })
    const b = await seam.clientSessions.get({ user_identifier_key: cs.user_identifier_key })
    assert.equal(a.client_session_id, cs.client_session_id)
    assert.equal(b.client_session_id, cs.client_session_id)
  })

  it('an unknown id is 404', async () => {
    const res = await getById('2b0a7f4e-3c3b-4b7e-9a43-8d7c1a9e0f11')
    assertError(res, 404)
  })

  it('an unknown user_identifier_key is 404', async () => {
    const res = await getSession(srv, AK, { user_identifier_key: uniqueKey('nobody') })
    assertError(res, 404)
  })

  it('with an API key, neither id nor user_identifier_key is invalid_input', async () => {
    const res = await getSession(srv, AK)
    assertError(res, 400, 'invalid_input')
  })

  it('with a client session token: its own session', async () => {
    const cs = await create({ connected_account_ids: [SEED.johnAccount] })
    const own = await getSession(srv, cs.token)
    assert.deepEqual(assertOk(own).client_session, cs)
    const byId = await getSession(srv, cs.token, { client_session_id: cs.client_session_id })
    assert.equal(assertOk(byId).client_session.client_session_id, cs.client_session_id)
    const seam = sdkFromToken(srv, cs.token)
    assert.equal((await seam.clientSessions.get()).client_session_id, cs.client_session_id)
  })

  it("with a client session token, another session's id or key is 404", async () => {
    const mine = await create()
    const other = await create({ connected_account_ids: [SEED.janeAccount] })
    const byId = await getSession(srv, mine.token, { client_session_id: other.client_session_id })
    assertError(byId, 404)
    assert.ok(!byId.text.includes(other.token), 'must not leak the other token')
    const byKey = await getSession(srv, mine.token, { user_identifier_key: other.user_identifier_key })
    assertError(byKey, 404)
    const seed = await getSession(srv, mine.token, { client_session_id: SEED.session1 })
    assertError(seed, 404)
  })
})

describe('client_sessions/list', () => {
  it('lists the sessions of the workspace, the seed session among them', async () => {
    const cs = await create()
    const all = await list()
    assert.ok(ids(all).includes(cs.client_session_id))
    assert.ok(ids(all).includes(SEED.session1))
    for (const s of all) assert.equal(s.workspace_id, SEED.workspace1)
  })

  it('filter client_session_id: exactly that session', async () => {
    const cs = await create()
    await create()
    assert.deepEqual(ids(await list({ client_session_id: cs.client_session_id })), [
      cs.client_session_id,
    ])
  })

  it('filter user_identifier_key: exactly that session', async () => {
    const cs = await create()
    await create()
    assert.deepEqual(ids(await list({ user_identifier_key: cs.user_identifier_key })), [
      cs.client_session_id,
    ])
  })

  it('filter connect_webview_id: the sessions holding that webview', async () => {
    const withWebview = await create({ connect_webview_ids: [SEED.webview1] })
    const without = await create({ connected_account_ids: [SEED.johnAccount] })
    const found = ids(await list({ connect_webview_id: SEED.webview1 }))
    assert.ok(found.includes(withWebview.client_session_id))
    assert.ok(found.includes(SEED.session1))
    assert.ok(!found.includes(without.client_session_id))
    const none = await list({ connect_webview_id: 'ffffffff-0000-4000-8000-000000000000' })
    assert.deepEqual(none, [])
  })

  it('filter user_identity_id: the sessions of that identity', async () => {
    const withIdentity = await create({ user_identity_id: SEED.johnIdentity })
    const without = await create()
    const found = await list({ user_identity_id: SEED.johnIdentity })
    assert.ok(ids(found).includes(withIdentity.client_session_id))
    assert.ok(ids(found).includes(SEED.session1))
    assert.ok(!ids(found).includes(without.client_session_id))
    for (const s of found) assert.equal(s.user_identity_id, SEED.johnIdentity)
  })

  it('filter without_user_identifier_key: only sessions with no key', async () => {
    const anonymous = assertOk(
      await call(srv, '/client_sessions/create', { token: AK, body: {} }),
    ).client_session
    const named = await create()
    const found = await list({ without_user_identifier_key: true })
    assert.ok(ids(found).includes(anonymous.client_session_id))
    assert.ok(!ids(found).includes(named.client_session_id))
    assert.ok(!ids(found).includes(SEED.session1))
    for (const s of found) assert.equal(s.user_identifier_key, null)
  })

  it('filters through the SDK (GET with query parameters)', async () => {
    const cs = await create()
    const seam = sdkFromApiKey(srv, AK)
    const found = await seam.clientSessions.list({ user_identifier_key: cs.user_identifier_key })
    assert.deepEqual(ids(found), [cs.client_session_id])
    const byId = await seam.clientSessions.list({ client_session_id: cs.client_session_id })
    assert.deepEqual(ids(byId), [cs.client_session_id])
  })
})

describe('client_sessions/get_or_create', () => {
  const GOC = '/client_sessions/get_or_create'

  async function getOrCreate(body) {
    const res = await call(srv, GOC, { token: AK, body })
    return assertOk(res, 'client_session').client_session
  }

  it('creates the session, then returns the same one', async () => {
    const uik = uniqueKey('goc')
    const a = await getOrCreate({ user_identifier_key: uik })
    assert.ok(isUuid(a.client_session_id))
    assert.equal(a.user_identifier_key, uik)
    const b = await getOrCreate({ user_identifier_key: uik })
    assert.equal(b.client_session_id, a.client_session_id)
    assert.equal(b.token, a.token)
    assert.deepEqual(ids(await list({ user_identifier_key: uik })), [a.client_session_id])
  })

  it('returns a session made by create, for the same key', async () => {
    const cs = await create({ connected_account_ids: [SEED.janeAccount] })
    const got = await getOrCreate({ user_identifier_key: cs.user_identifier_key })
    assert.equal(got.client_session_id, cs.client_session_id)
    assert.equal(got.token, cs.token)
  })

  it('adds the grants it is given to the existing session', async () => {
    const uik = uniqueKey('goc_grant')
    const a = await getOrCreate({ user_identifier_key: uik })
    assert.equal(a.device_count, 0)
    const b = await getOrCreate({
      user_identifier_key: uik,
      connected_account_ids: [SEED.janeAccount],
    })
    assert.equal(b.client_session_id, a.client_session_id)
    assert.deepEqual(b.connected_account_ids, [SEED.janeAccount])
    assert.equal(b.device_count, 1)
    assert.deepEqual(await devicesOf(a.token), JANE_DEVICES)
  })

  it('updates expires_at on the existing session', async () => {
    const uik = uniqueKey('goc_exp')
    const a = await getOrCreate({ user_identifier_key: uik })
    const later = new Date(Date.parse(a.expires_at) + 7 * 86400_000).toISOString()
    const b = await getOrCreate({ user_identifier_key: uik, expires_at: later })
    assert.equal(b.client_session_id, a.client_session_id)
    assert.equal(Date.parse(b.expires_at), Date.parse(later))
    const got = assertOk(await getById(a.client_session_id)).client_session
    assert.equal(Date.parse(got.expires_at), Date.parse(later))
  })

  it('expires_at in the past is rejected naming expires_at', async () => {
    const past = new Date(Date.now() - 1000).toISOString()
    await assertRefusedForNewUser(GOC, 'goc_past', { expires_at: past }, 'expires_at')
  })

  it('ids not in the workspace are rejected and nothing is created', async () => {
    const bad = { connected_account_ids: ['no_such_account'] }
    await assertRefusedForNewUser(GOC, 'goc_bad', bad, 'connected_account_ids')
  })

  it('works through the SDK', async () => {
    const seam = sdkFromApiKey(srv, AK)
    const uik = uniqueKey('goc_sdk')
    const a = await seam.clientSessions.getOrCreate({
      user_identifier_key: uik,
      connected_account_ids: [SEED.johnAccount],
    })
    const b = await seam.clientSessions.getOrCreate({ user_identifier_key: uik })
    assert.equal(b.client_session_id, a.client_session_id)
    assert.equal(b.device_count, 4)
  })

  it('a revoked session is replaced by a working one that keeps its grants', async () => {
    const cs = await create({
      connected_account_ids: [SEED.janeAccount],
      connect_webview_ids: [SEED.webview1],
      user_identity_id: SEED.johnIdentity,
    })
    await revoke(cs)
    assertError(await call(srv, '/devices/list', { method: 'GET', token: cs.token }), 401)
    const fresh = await getOrCreate({ user_identifier_key: cs.user_identifier_key })
    assert.notEqual(fresh.token, cs.token)
    assert.deepEqual([...fresh.connected_account_ids].sort(), [SEED.janeAccount, SEED.johnAccount].sort())
    assert.deepEqual(fresh.connect_webview_ids, [SEED.webview1])
    assert.equal(fresh.user_identity_id, SEED.johnIdentity)
    assert.equal(fresh.device_count, 5)
    assert.deepEqual(await devicesOf(fresh.token), ALL_DEVICES)
    // The old token stays dead.
    assertError(await call(srv, '/devices/list', { method: 'GET', token: cs.token }), 401)
    // One session for the user, the working one.
    const found = await list({ user_identifier_key: cs.user_identifier_key })
    assert.deepEqual(ids(found), [fresh.client_session_id])
  })

  it('an expired session is replaced by a working one that keeps its grants', async () => {
    const lifetime = SANITIZED ? 4000 : 2000
    const cs = await create({
      connected_account_ids: [SEED.johnAccount],
      expires_at: new Date(Date.now() + lifetime).toISOString(),
    })
    await sleep(Math.max(0, Date.parse(cs.expires_at) - Date.now()) + 300)
    assertError(
      await call(srv, '/devices/list', { method: 'GET', token: cs.token }),
      401,
      'client_session_expired',
    )
    const fresh = await getOrCreate({ user_identifier_key: cs.user_identifier_key })
    assert.notEqual(fresh.token, cs.token)
    assert.ok(Date.parse(fresh.expires_at) > Date.now())
    assert.deepEqual(fresh.connected_account_ids, [SEED.johnAccount])
    assert.deepEqual(await devicesOf(fresh.token), JOHN_DEVICES)
  })
})

describe('client_sessions/grant_access', () => {
  it('by client_session_id: widens what the already-issued token sees', async () => {
    const cs = await create()
    assert.deepEqual(await devicesOf(cs.token), [])
    const res = await grantAccess({
      client_session_id: cs.client_session_id,
      connected_account_ids: [SEED.johnAccount],
    })
    const granted = assertOk(res).client_session
    assert.equal(granted.client_session_id, cs.client_session_id)
    assert.deepEqual(granted.connected_account_ids, [SEED.johnAccount])
    assert.equal(granted.device_count, 4)
    assert.deepEqual(await devicesOf(cs.token), JOHN_DEVICES)
  })

  it('by user_identifier_key (POST): adds to what the session held', async () => {
    const cs = await create({ connected_account_ids: [SEED.johnAccount] })
    const res = await call(srv, '/client_sessions/grant_access', {
      token: AK,
      body: { user_identifier_key: cs.user_identifier_key, connected_account_ids: [SEED.janeAccount] },
    })
    const granted = assertOk(res).client_session
    assert.equal(granted.device_count, 5)
    assert.deepEqual(
      [...granted.connected_account_ids].sort(),
      [SEED.janeAccount, SEED.johnAccount].sort(),
    )
    assert.deepEqual(await devicesOf(cs.token), ALL_DEVICES)
  })

  it('connect webviews and the user identity can be granted', async () => {
    const cs = await create()
    const res = await grantAccess({
      client_session_id: cs.client_session_id,
      connect_webview_ids: [SEED.webview1],
      user_identity_id: SEED.johnIdentity,
    })
    const granted = assertOk(res).client_session
    assert.deepEqual(granted.connect_webview_ids, [SEED.webview1])
    assert.equal(granted.user_identity_id, SEED.johnIdentity)
    assert.equal(granted.device_count, 4)
    assert.deepEqual(await devicesOf(cs.token), JOHN_DEVICES)
  })

  it('granting the same account twice changes nothing', async () => {
    const cs = await create({ connected_account_ids: [SEED.janeAccount] })
    const res = await grantAccess({
      client_session_id: cs.client_session_id,
      connected_account_ids: [SEED.janeAccount],
    })
    const granted = assertOk(res).client_session
    assert.deepEqual(granted.connected_account_ids, [SEED.janeAccount])
    assert.equal(granted.device_count, 1)
  })

  it('through the SDK (PATCH)', async () => {
    const cs = await create()
    const seam = sdkFromApiKey(srv, AK)
    await seam.clientSessions.grantAccess({
      client_session_id: cs.client_session_id,
      connected_account_ids: [SEED.janeAccount],
    })
    const got = await seam.clientSessions.get({ client_session_id: cs.client_session_id })
    assert.equal(got.device_count, 1)
    assert.deepEqual(await devicesOf(cs.token), JANE_DEVICES)
  })

  it('an unknown account is invalid_input and the session is unchanged', async () => {
    const cs = await create({ connected_account_ids: [SEED.janeAccount] })
    const res = await grantAccess({
      client_session_id: cs.client_session_id,
      connected_account_ids: [SEED.johnAccount, 'no_such_account'],
    })
    assertInvalidInput(res, 'connected_account_ids')
    const got = assertOk(await getById(cs.client_session_id)).client_session
    assert.deepEqual(got.connected_account_ids, [SEED.janeAccount])
    assert.deepEqual(await devicesOf(cs.token), JANE_DEVICES)
  })

  it('an unknown session is 404', async () => {
    const res = await grantAccess({
      client_session_id: '7d7a0d4c-1111-4222-8333-944455556666',
      connected_account_ids: [SEED.janeAccount],
    })
    assertError(res, 404)
  })
})

describe('client_sessions/revoke', () => {
  it('the token stops at once with 401 client_session_revoked; the record stays', async () => {
    const cs = await create({ connected_account_ids: [SEED.johnAccount] })
    assert.deepEqual(await devicesOf(cs.token), JOHN_DEVICES)
    await revoke(cs)
    for (const route of ['/devices/list', '/workspaces/get', '/client_sessions/get']) {
      assertError(
        await call(srv, route, { method: 'GET', token: cs.token }),
        401,
        'client_session_revoked',
      )
    }
    assert.ok(ids(await list()).includes(cs.client_session_id), 'still listed')
    const got = assertOk(await getById(cs.client_session_id)).client_session
    assert.equal(got.client_session_id, cs.client_session_id)
  })

  it('through the SDK', async () => {
    const cs = await create()
    await sdkFromApiKey(srv, AK).clientSessions.revoke({ client_session_id: cs.client_session_id })
    await sdkRejects(sdkFromToken(srv, cs.token).devices.list(), 401, 'client_session_revoked')
  })

  it('an unknown session is 404', async () => {
    const res = await call(srv, '/client_sessions/revoke', {
      token: AK,
      body: { client_session_id: '5e0c1b9a-aaaa-4bbb-8ccc-ddddeeeeffff' },
    })
    assertError(res, 404)
  })

  it('without client_session_id: invalid_input naming it', async () => {
    const res = await call(srv, '/client_sessions/revoke', { token: AK, body: {} })
    assertInvalidInput(res, 'client_session_id')
  })
})

describe('client_sessions/delete', () => {
  it('the token fails with 401 client_session_not_found and get is 404', async () => {
    const cs = await create({ connected_account_ids: [SEED.johnAccount] })
    const res = await call(srv, '/client_sessions/delete', {
      token: AK,
      body: { client_session_id: cs.client_session_id },
    })
    assertOk(res)
    assertError(
      await call(srv, '/devices/list', { method: 'GET', token: cs.token }),
      401,
      'client_session_not_found',
    )
    assertError(await getById(cs.client_session_id), 404)
    assert.ok(!ids(await list()).includes(cs.client_session_id), 'no longer listed')
  })

  it('DELETE with a JSON body works too', async () => {
    const cs = await create()
    const res = await call(srv, '/client_sessions/delete', {
      method: 'DELETE',
      token: AK,
      body: { client_session_id: cs.client_session_id },
    })
    assertOk(res)
    assertError(await getById(cs.client_session_id), 404)
  })

  it('through the SDK (DELETE with client_session_id in the query, as the OpenAPI lists it)', async () => {
    const cs = await create()
    await sdkFromApiKey(srv, AK).clientSessions.delete({ client_session_id: cs.client_session_id })
    assertError(await getById(cs.client_session_id), 404)
    await sdkRejects(sdkFromToken(srv, cs.token).devices.list(), 401, 'client_session_not_found')
  })

  it('the user_identifier_key can be used again after delete', async () => {
    const cs = await create()
    assertOk(await call(srv, '/client_sessions/delete', {
      token: AK,
      body: { client_session_id: cs.client_session_id },
    }))
    const again = await create({ user_identifier_key: cs.user_identifier_key })
    assert.notEqual(again.client_session_id, cs.client_session_id)
  })

  it('an unknown session is 404', async () => {
    const res = await call(srv, '/client_sessions/delete', {
      token: AK,
      body: { client_session_id: '9a9a9a9a-bbbb-4ccc-8ddd-eeeeffff0000' },
    })
    assertError(res, 404)
  })
})

describe('device_count', () => {
  it('the seed session counts john four devices, everywhere it is shown', async () => {
    assert.equal(assertOk(await getById(SEED.session1)).client_session.device_count, 4)
    const listed = (await list({ client_session_id: SEED.session1 }))[0]
    assert.equal(listed.device_count, 4)
    const own = await getSession(srv, SEED.cst1)
    assert.equal(assertOk(own).client_session.device_count, 4)
  })

  it('is computed when read, never stale after grants', async () => {
    const cs = await create()
    const count = async () => ({
      get: assertOk(await getById(cs.client_session_id)).client_session.device_count,
      list: (await list({ client_session_id: cs.client_session_id }))[0].device_count,
      own: assertOk(await getSession(srv, cs.token)).client_session.device_count,
      visible: (await devicesOf(cs.token)).length,
    })
    assert.deepEqual(await count(), { get: 0, list: 0, own: 0, visible: 0 })
    await grantAccess({ client_session_id: cs.client_session_id, connect_webview_ids: [SEED.webview1] })
    assert.deepEqual(await count(), { get: 4, list: 4, own: 4, visible: 4 })
    await grantAccess({ client_session_id: cs.client_session_id, connected_account_ids: [SEED.janeAccount] })
    assert.deepEqual(await count(), { get: 5, list: 5, own: 5, visible: 5 })
  })

  it('an account granted both directly and through a webview counts its devices once', async () => {
    const cs = await create({
      connected_account_ids: [SEED.johnAccount],
      connect_webview_ids: [SEED.webview1],
    })
    assert.equal(cs.device_count, 4)
    assert.deepEqual(await devicesOf(cs.token), JOHN_DEVICES)
  })
})

describe('concurrent calls for one user', () => {
  const N = 16
  /** The same request from N callers at once; resolves to the N raw responses. */
  const concurrently = (request) => Promise.all(Array.from({ length: N }, () => request()))

  it('get_or_create: every caller gets the one session', async () => {
    const uik = uniqueKey('race_goc')
    const results = await concurrently(() =>
      call(srv, '/client_sessions/get_or_create', { token: AK, body: { user_identifier_key: uik } }),
    )
    const sessions = results.map((r) => assertOk(r).client_session)
    assert.equal(new Set(sessions.map((s) => s.client_session_id)).size, 1)
    assert.equal(new Set(sessions.map((s) => s.token)).size, 1)
    assert.equal((await list({ user_identifier_key: uik })).length, 1)
  })

  it('PUT create: every caller gets the one session', async () => {
    const uik = uniqueKey('race_put')
    const results = await concurrently(() =>
      call(srv, '/client_sessions/create', { method: 'PUT', token: AK, body: { user_identifier_key: uik } }),
    )
    const sessions = results.map((r) => assertOk(r).client_session)
    assert.equal(new Set(sessions.map((s) => s.client_session_id)).size, 1)
    assert.equal((await list({ user_identifier_key: uik })).length, 1)
  })

  it('POST create: exactly one succeeds, the others are client_session_token_already_exists', async () => {
    const uik = uniqueKey('race_post')
    const results = await concurrently(() =>
      call(srv, '/client_sessions/create', { token: AK, body: { user_identifier_key: uik } }),
    )
    const ok = results.filter((r) => r.status === 200)
    assert.equal(ok.length, 1, results.map((r) => r.status).join(','))
    for (const r of results.filter((x) => x.status !== 200)) {
      assertError(r, 400, 'client_session_token_already_exists')
    }
    assert.equal((await list({ user_identifier_key: uik })).length, 1)
  })

  it('get_or_create replacing a revoked session: one working session, grants kept', async () => {
    const cs = await create({ connected_account_ids: [SEED.johnAccount] })
    await revoke(cs)
    const results = await concurrently(() =>
      call(srv, '/client_sessions/get_or_create', {
        token: AK,
        body: { user_identifier_key: cs.user_identifier_key },
      }),
    )
    const sessions = results.map((r) => assertOk(r).client_session)
    assert.equal(new Set(sessions.map((s) => s.client_session_id)).size, 1)
    const listed = await list({ user_identifier_key: cs.user_identifier_key })
    assert.equal(listed.length, 1)
    assert.equal(listed[0].device_count, 4)
    assert.deepEqual(await devicesOf(sessions[0].token), JOHN_DEVICES)
  })
})
