// Credentials (shared/API.md "Credentials per route" and the token rules):
// each SDK way in, the three client session token headers, the distinct 401
// types, the 403 of a credential on a route it may not use, and publishable
// keys creating only empty sessions.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import {
  JANE_DEVICES,
  JOHN_DEVICES,
  SANITIZED,
  SEED,
  assertError,
  assertOk,
  call,
  createSession,
  deviceIds,
  deviceIdsOf,
  isUuid,
  listDeviceIds,
  listSessions,
  revokeSession,
  sdkFromApiKey,
  sdkFromPublishableKey,
  sdkFromToken,
  sdkRejects,
  sleep,
  uniqueKey,
  useServer,
} from './harness.mjs'

const srv = useServer()
const AK = SEED.apiKey1
const PK = SEED.publishableKey1
const PK_HEADERS = { 'seam-publishable-key': PK }

/** A new session in workspace 1 made with the API key; returns the record. */
const newSession = (body) => createSession(srv, AK, body)

/** Every route that takes a credential, with the method the tests use. */
const AUTHENTICATED_ROUTES = [
  ['GET', '/devices/list'],
  ['GET', '/devices/get'],
  ['GET', '/workspaces/get'],
  ['GET', '/client_sessions/list'],
  ['GET', '/client_sessions/get'],
  ['POST', '/client_sessions/create'],
  ['POST', '/client_sessions/get_or_create'],
  ['PATCH', '/client_sessions/grant_access'],
  ['POST', '/client_sessions/revoke'],
  ['POST', '/client_sessions/delete'],
]
/** Those a publishable key may use (and devices/list, which has its own test). */
const PK_ROUTES = ['/devices/list', '/client_sessions/create', '/client_sessions/get_or_create']

describe('SDK ways in', () => {
  it('fromApiKey sees the whole workspace', async () => {
    const seam = sdkFromApiKey(srv, AK)
    const devices = await seam.devices.list()
    assert.equal(devices.length, 5)
    const ws = await seam.workspaces.get()
    assert.equal(ws.workspace_id, SEED.workspace1)
  })

  it("fromClientSessionToken sees the session's devices", async () => {
    const seam = sdkFromToken(srv, SEED.cst1)
    assert.deepEqual(deviceIdsOf(await seam.devices.list()), JOHN_DEVICES)
  })

  it('fromPublishableKey gets an empty session for the user, and the same one again', async () => {
    const uik = uniqueKey('pk_user')
    const seam = await sdkFromPublishableKey(srv, PK, uik)
    const session = await seam.clientSessions.get()
    assert.equal(session.user_identifier_key, uik)
    assert.equal(session.workspace_id, SEED.workspace1)
    assert.ok(isUuid(session.client_session_id))
    assert.deepEqual(session.connected_account_ids, [])
    assert.equal(session.device_count, 0)
    assert.deepEqual(await seam.devices.list(), [])
    const again = await sdkFromPublishableKey(srv, PK, uik)
    const session2 = await again.clientSessions.get()
    assert.equal(session2.client_session_id, session.client_session_id)
    assert.equal(session2.token, session.token)
  })

  it('a publishable-key session sees what the backend later grants it', async () => {
    const uik = uniqueKey('pk_user')
    const seam = await sdkFromPublishableKey(srv, PK, uik)
    assert.deepEqual(await seam.devices.list(), [])
    await sdkFromApiKey(srv, AK).clientSessions.grantAccess({
      user_identifier_key: uik,
      connected_account_ids: [SEED.janeAccount],
    })
    assert.deepEqual(deviceIdsOf(await seam.devices.list()), JANE_DEVICES)
  })

  it('updateClientSessionToken switches the client to another session', async () => {
    const john = await newSession({ connected_account_ids: [SEED.johnAccount] })
    const jane = await newSession({ connected_account_ids: [SEED.janeAccount] })
    const seam = sdkFromToken(srv, john.token)
    assert.deepEqual(deviceIdsOf(await seam.devices.list()), JOHN_DEVICES)
    await seam.updateClientSessionToken(jane.token)
    assert.deepEqual(deviceIdsOf(await seam.devices.list()), JANE_DEVICES)
    assert.equal((await seam.clientSessions.get()).client_session_id, jane.client_session_id)
  })

  it('updateClientSessionToken rejects a revoked token', async () => {
    const a = await newSession()
    const b = await newSession()
    await revokeSession(srv, AK, b.client_session_id)
    const seam = sdkFromToken(srv, a.token)
    await sdkRejects(seam.updateClientSessionToken(b.token), 401, 'client_session_revoked')
  })
})

describe('client session token headers', () => {
  for (const [name, headers] of [
    ['Authorization: Bearer', { authorization: `Bearer ${SEED.cst1}` }],
    ['client-session-token', { 'client-session-token': SEED.cst1 }],
    ['seam-client-session-token', { 'seam-client-session-token': SEED.cst1 }],
  ]) {
    it(`accepts the token as ${name}`, async () => {
      const res = await call(srv, '/devices/list', { method: 'GET', headers })
      assert.deepEqual(deviceIds(assertOk(res, 'devices')), JOHN_DEVICES)
      const ws = await call(srv, '/workspaces/get', { method: 'GET', headers })
      assert.equal(assertOk(ws, 'workspace').workspace.workspace_id, SEED.workspace1)
    })
  }
})

describe('401: no, unknown, revoked, expired credential', () => {
  it('no credential is 401 on every authenticated route', async () => {
    for (const [method, route] of AUTHENTICATED_ROUTES) {
      const res = await call(srv, route, { method, body: method === 'GET' ? undefined : {} })
      assertError(res, 401)
    }
  })

  it('an unknown API key is 401', async () => {
    const res = await call(srv, '/devices/list', {
      method: 'GET',
      token: 'seam_abcdefgh_0123456789abcdef0123456789abcdef',
    })
    assertError(res, 401)
  })

  it('the SDK reports an unknown API key as unauthorized', async () => {
    const seam = sdkFromApiKey(srv, 'seam_nosuchkey_0123456789abcdef0123456789ab')
    await sdkRejects(seam.devices.list(), 401)
  })

  it('a credential in no known format is 401', async () => {
    for (const token of ['nonsense', 'Basic abc', 'seam_at1_personal']) {
      const res = await call(srv, '/devices/list', { method: 'GET', token })
      assertError(res, 401)
    }
  })

  it('an unknown publishable key is 401', async () => {
    const res = await call(srv, '/client_sessions/get_or_create', {
      headers: { 'seam-publishable-key': 'seam_pk1_nosuchkey' },
      body: { user_identifier_key: uniqueKey() },
    })
    assertError(res, 401)
  })

  it('an unknown client session token is 401 client_session_not_found', async () => {
    for (const headers of [
      { authorization: 'Bearer seam_cst1_doesnotexist0123456789' },
      { 'client-session-token': 'seam_cst1_doesnotexist0123456789' },
      { 'seam-client-session-token': 'seam_cst1_doesnotexist0123456789' },
    ]) {
      const res = await call(srv, '/devices/list', { method: 'GET', headers })
      assertError(res, 401, 'client_session_not_found')
    }
  })

  it('a revoked token is 401 client_session_revoked', async () => {
    const cs = await newSession({ connected_account_ids: [SEED.johnAccount] })
    assertOk(await call(srv, '/devices/list', { method: 'GET', token: cs.token }))
    await revokeSession(srv, AK, cs.client_session_id)
    const res = await call(srv, '/devices/list', { method: 'GET', token: cs.token })
    assertError(res, 401, 'client_session_revoked')
  })

  it('an expired token is 401 client_session_expired', async () => {
    const lifetime = SANITIZED ? 4000 : 2000
    const expiresAt = new Date(Date.now() + lifetime).toISOString()
    const cs = await newSession({ connected_account_ids: [SEED.johnAccount], expires_at: expiresAt })
    assert.equal(Date.parse(cs.expires_at), Date.parse(expiresAt))
    assert.deepEqual(await listDeviceIds(srv, cs.token), JOHN_DEVICES)
    await sleep(Math.max(0, Date.parse(expiresAt) - Date.now()) + 300)
    const res = await call(srv, '/devices/list', { method: 'GET', token: cs.token })
    assertError(res, 401, 'client_session_expired')
    const ws = await call(srv, '/workspaces/get', { method: 'GET', token: cs.token })
    assertError(ws, 401, 'client_session_expired')
  })
})

describe('403: a credential on a route it may not use', () => {
  it('a client session token on API-key-only routes is 403', async () => {
    const caller = await newSession({ connected_account_ids: [SEED.johnAccount] })
    for (const [method, route, body] of [
      ['GET', '/client_sessions/list', undefined],
      ['POST', '/client_sessions/create', { user_identifier_key: uniqueKey() }],
      ['POST', '/client_sessions/get_or_create', { user_identifier_key: uniqueKey() }],
      ['PATCH', '/client_sessions/grant_access', {
        client_session_id: caller.client_session_id,
        connected_account_ids: [SEED.janeAccount],
      }],
      ['POST', '/client_sessions/revoke', { client_session_id: caller.client_session_id }],
      ['POST', '/client_sessions/delete', { client_session_id: caller.client_session_id }],
    ]) {
      const res = await call(srv, route, { method, token: caller.token, body })
      assertError(res, 403)
    }
    // The session was not touched by any of those.
    assert.deepEqual(await listDeviceIds(srv, caller.token), JOHN_DEVICES)
  })

  it('the SDK reports a client session token on client_sessions/list as 403', async () => {
    await sdkRejects(sdkFromToken(srv, SEED.cst1).clientSessions.list(), 403)
  })

  it('a publishable key on devices/list is 403', async () => {
    const res = await call(srv, '/devices/list', { method: 'GET', headers: PK_HEADERS })
    assertError(res, 403)
  })

  it('a publishable key on other routes it may not use is 403', async () => {
    for (const [method, route] of AUTHENTICATED_ROUTES.filter(([, r]) => !PK_ROUTES.includes(r))) {
      const res = await call(srv, route, {
        method,
        headers: PK_HEADERS,
        body: method === 'GET' ? undefined : {},
      })
      assertError(res, 403)
    }
  })
})

describe('publishable keys', () => {
  it('PK + user_identifier_key in the body creates an empty session (client_sessions/create)', async () => {
    const uik = uniqueKey('pk_body')
    const res = await call(srv, '/client_sessions/create', {
      headers: PK_HEADERS,
      body: { user_identifier_key: uik },
    })
    const cs = assertOk(res, 'client_session').client_session
    assert.equal(cs.user_identifier_key, uik)
    assert.equal(cs.workspace_id, SEED.workspace1)
    assert.deepEqual(cs.connected_account_ids, [])
    assert.deepEqual(cs.connect_webview_ids, [])
    assert.equal(cs.device_count, 0)
    assert.deepEqual(await listDeviceIds(srv, cs.token), [])
  })

  it('PK + seam-user-identifier-key header creates, then gets, the same session', async () => {
    const uik = uniqueKey('pk_header')
    const headers = { ...PK_HEADERS, 'seam-user-identifier-key': uik }
    const first = assertOk(
      await call(srv, '/client_sessions/get_or_create', { headers, body: {} }),
      'client_session',
    ).client_session
    assert.equal(first.user_identifier_key, uik)
    assert.deepEqual(first.connected_account_ids, [])
    const second = assertOk(
      await call(srv, '/client_sessions/get_or_create', { headers, body: {} }),
      'client_session',
    ).client_session
    assert.equal(second.client_session_id, first.client_session_id)
    assert.equal(second.token, first.token)
  })

  it('PK + header works on client_sessions/create too', async () => {
    const uik = uniqueKey('pk_header_create')
    const res = await call(srv, '/client_sessions/create', {
      headers: { ...PK_HEADERS, 'seam-user-identifier-key': uik },
      body: {},
    })
    assert.equal(assertOk(res, 'client_session').client_session.user_identifier_key, uik)
  })

  it('PK cannot create a session with connected_account_ids (403 publishable_keys_must_create_empty_client_sessions)', async () => {
    const uik = uniqueKey('pk_grant')
    for (const route of ['/client_sessions/get_or_create', '/client_sessions/create']) {
      for (const grant of [
        { connected_account_ids: [SEED.janeAccount] },
        { connect_webview_ids: [SEED.webview1] },
        { user_identity_id: SEED.johnIdentity },
      ]) {
        const res = await call(srv, route, {
          headers: PK_HEADERS,
          body: { user_identifier_key: uik, ...grant },
        })
        assertError(res, 403, 'publishable_keys_must_create_empty_client_sessions')
      }
    }
    // Nothing was created for that user.
    assert.deepEqual(await listSessions(srv, AK, { user_identifier_key: uik }), [])
  })

  it("PK cannot widen an existing user's session through get_or_create", async () => {
    const uik = uniqueKey('pk_widen')
    const headers = PK_HEADERS
    const cs = assertOk(
      await call(srv, '/client_sessions/get_or_create', { headers, body: { user_identifier_key: uik } }),
    ).client_session
    const res = await call(srv, '/client_sessions/get_or_create', {
      headers,
      body: { user_identifier_key: uik, connected_account_ids: [SEED.johnAccount] },
    })
    assertError(res, 403, 'publishable_keys_must_create_empty_client_sessions')
    assert.deepEqual(await listDeviceIds(srv, cs.token), [])
  })

  it('PK without any user identifier key is refused (400) and creates nothing', async () => {
    const anonymous = async () =>
      (await listSessions(srv, AK, { without_user_identifier_key: true })).length
    const before = await anonymous()
    for (const route of ['/client_sessions/get_or_create', '/client_sessions/create']) {
      const res = await call(srv, route, { headers: PK_HEADERS, body: {} })
      assertError(res, 400)
    }
    assert.equal(await anonymous(), before)
  })

  it("PK for John's user_identifier_key gets John's session as it is, never wider", async () => {
    // The seed session belongs to john_user_identifier_key; a publishable
    // key may get it (that is how the SDK flow works) but cannot add to it.
    const res = await call(srv, '/client_sessions/get_or_create', {
      headers: PK_HEADERS,
      body: { user_identifier_key: SEED.johnKey },
    })
    const cs = assertOk(res).client_session
    assert.equal(cs.client_session_id, SEED.session1)
    assert.deepEqual(await listDeviceIds(srv, cs.token), JOHN_DEVICES)
  })
})
