// Scope: a client session token sees only what its session holds, an API key
// only its own workspace, and an object outside the caller's scope is "not
// found" exactly as if it did not exist (shared/API.md, DESIGN.md "Scoping").
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import {
  ALL_DEVICES,
  JANE_DEVICES,
  JOHN_DEVICES,
  SEED,
  assertError,
  assertOk,
  call,
  createSession,
  deviceIdsOf,
  getSession,
  listDeviceIds,
  listSessions,
  sdkFromApiKey,
  sdkFromToken,
  sdkRejects,
  uniqueKey,
  useServer,
} from './harness.mjs'

const srv = useServer()
const AK1 = SEED.apiKey1
const AK2 = SEED.apiKey2

const listIds = (token, query) => listDeviceIds(srv, token, query)
const getDevice = (token, query) => call(srv, '/devices/get', { method: 'GET', token, query })
const createIn = (apiKey, body) => createSession(srv, apiKey, body, { label: 'scope' })
const sessionById = (token, id) => getSession(srv, token, { client_session_id: id })

describe("the seed token (john's session)", () => {
  it("lists exactly john's four devices", async () => {
    const ids = await listIds(SEED.cst1)
    assert.deepEqual(ids, JOHN_DEVICES)
    assert.ok(!ids.includes('schlage_device_id'))
  })

  it("cannot get jane's lock by id", async () => {
    assertError(await getDevice(SEED.cst1, { device_id: 'schlage_device_id' }), 404, 'device_not_found')
  })

  it("cannot get jane's lock by its name 'Bathroom Door'", async () => {
    assertError(await getDevice(SEED.cst1, { name: 'Bathroom Door' }), 404, 'device_not_found')
  })

  it("filters naming jane's lock or account give an empty list", async () => {
    for (const query of [
      { device_ids: ['schlage_device_id'] },
      { connected_account_id: SEED.janeAccount },
      { connected_account_ids: [SEED.janeAccount] },
      { manufacturer: 'schlage' },
      { device_type: 'schlage_lock' },
      { device_types: ['schlage_lock'] },
    ]) {
      assert.deepEqual(await listIds(SEED.cst1, query), [], JSON.stringify(query))
    }
  })

  it("mixing jane's lock into device_ids returns only john's", async () => {
    assert.deepEqual(
      await listIds(SEED.cst1, { device_ids: ['schlage_device_id', 'august_device_1'] }),
      ['august_device_1'],
    )
  })

  it('the SDK with the seed token never returns the schlage lock', async () => {
    const seam = sdkFromToken(srv, SEED.cst1)
    const flat = await seam.createPaginator(seam.devices.list({ limit: 1 })).flattenToArray()
    assert.deepEqual(deviceIdsOf(flat), JOHN_DEVICES)
    await sdkRejects(seam.devices.get({ name: 'Bathroom Door' }), 404, 'device_not_found')
  })

  it("the not-found for jane's lock is the same as for a device that does not exist", async () => {
    const hidden = await getDevice(SEED.cst1, { device_id: 'schlage_device_id' })
    const absent = await getDevice(SEED.cst1, { device_id: 'no_such_device_at_all' })
    assert.equal(hidden.status, absent.status)
    assert.equal(hidden.body.error.type, absent.body.error.type)
    assert.ok(!hidden.text.includes('schlage'), `the error must not describe the device: ${hidden.text}`)
  })
})

describe('a session for jane', () => {
  it('sees only her lock', async () => {
    const jane = await createIn(AK1, { connected_account_ids: [SEED.janeAccount] })
    assert.deepEqual(await listIds(jane.token), JANE_DEVICES)
    const got = await getDevice(jane.token, { device_id: 'schlage_device_id' })
    assert.equal(assertOk(got).device.device_id, 'schlage_device_id')
    for (const query of [
      { device_id: 'august_device_1' },
      { device_id: 'ecobee_device_1' },
      { name: 'Front Door' },
      { name: 'Fake August Lock 1' },
    ]) {
      assertError(await getDevice(jane.token, query), 404, 'device_not_found')
    }
    assert.deepEqual(await listIds(jane.token, { connected_account_id: SEED.johnAccount }), [])
    assert.deepEqual(await listIds(jane.token, { device_ids: JOHN_DEVICES }), [])
  })

  it("an API key narrowed to jane's user_identifier_key sees only her lock", async () => {
    const jane = await createIn(AK1, { connected_account_ids: [SEED.janeAccount] })
    assert.deepEqual(await listIds(AK1, { user_identifier_key: jane.user_identifier_key }), JANE_DEVICES)
  })

  it('an empty session sees nothing', async () => {
    const empty = await createIn(AK1)
    assert.deepEqual(await listIds(empty.token), [])
    for (const id of ALL_DEVICES) {
      assertError(await getDevice(empty.token, { device_id: id }), 404, 'device_not_found')
    }
  })
})

describe('a token with the user_identifier_key of another user', () => {
  it("the seed token asking for jane's user sees nothing of jane", async () => {
    const jane = await createIn(AK1, { connected_account_ids: [SEED.janeAccount] })
    const ids = await listIds(SEED.cst1, { user_identifier_key: jane.user_identifier_key })
    assert.ok(!ids.includes('schlage_device_id'), `got ${ids}`)
  })

  it("jane's token asking for john's user sees nothing of john", async () => {
    const jane = await createIn(AK1, { connected_account_ids: [SEED.janeAccount] })
    const ids = await listIds(jane.token, { user_identifier_key: SEED.johnKey })
    for (const id of JOHN_DEVICES) assert.ok(!ids.includes(id), `got ${ids}`)
  })

  it('an empty session asking for john sees nothing', async () => {
    const empty = await createIn(AK1)
    assert.deepEqual(await listIds(empty.token, { user_identifier_key: SEED.johnKey }), [])
  })
})

describe("workspace 2's API key and workspace 1", () => {
  it('lists no devices (workspace 2 has none)', async () => {
    assert.deepEqual(await listIds(AK2), [])
  })

  it("gets 404 for each of workspace 1's devices, by id and by name", async () => {
    for (const id of ALL_DEVICES) {
      assertError(await getDevice(AK2, { device_id: id }), 404, 'device_not_found')
    }
    for (const name of ['Front Door', 'Bathroom Door', 'Fake August Lock 1']) {
      assertError(await getDevice(AK2, { name }), 404, 'device_not_found')
    }
  })

  it("filters naming workspace 1's ids or john's user key give an empty list", async () => {
    for (const query of [
      { device_ids: ALL_DEVICES },
      { connected_account_id: SEED.johnAccount },
      { connected_account_ids: [SEED.johnAccount, SEED.janeAccount] },
      { user_identifier_key: SEED.johnKey },
      { manufacturer: 'august' },
    ]) {
      assert.deepEqual(await listIds(AK2, query), [], JSON.stringify(query))
    }
  })

  it("gets 404 for workspace 1's client sessions, by id and by user_identifier_key", async () => {
    const victim = await createIn(AK1, { connected_account_ids: [SEED.johnAccount] })
    for (const id of [SEED.session1, victim.client_session_id]) {
      const res = await sessionById(AK2, id)
      assertError(res, 404)
      assert.ok(!res.text.includes('seam_cst'), 'no token may leak')
    }
    for (const uik of [SEED.johnKey, victim.user_identifier_key]) {
      assertError(await getSession(srv, AK2, { user_identifier_key: uik }), 404)
    }
    await sdkRejects(
      sdkFromApiKey(srv, AK2).clientSessions.get({ user_identifier_key: SEED.johnKey }),
      404,
    )
  })

  it("does not list workspace 1's client sessions, whatever the filter", async () => {
    const victim = await createIn(AK1, { connect_webview_ids: [SEED.webview1] })
    for (const query of [
      {},
      { client_session_id: victim.client_session_id },
      { user_identifier_key: victim.user_identifier_key },
      { connect_webview_id: SEED.webview1 },
      { user_identity_id: SEED.johnIdentity },
    ]) {
      const sessions = await listSessions(srv, AK2, query)
      for (const s of sessions) assert.equal(s.workspace_id, SEED.workspace2)
      assert.ok(!sessions.some((s) => s.client_session_id === victim.client_session_id))
      assert.ok(!sessions.some((s) => s.client_session_id === SEED.session1))
    }
  })

  it("cannot grant workspace 1's connected accounts, webviews or identity to its sessions (400)", async () => {
    const own = await createIn(AK2)
    for (const grant of [
      { connected_account_ids: [SEED.johnAccount] },
      { connected_account_ids: [SEED.janeAccount] },
      { connect_webview_ids: [SEED.webview1] },
      { user_identity_id: SEED.johnIdentity },
    ]) {
      const res = await call(srv, '/client_sessions/grant_access', {
        method: 'PATCH',
        token: AK2,
        body: { client_session_id: own.client_session_id, ...grant },
      })
      assertError(res, 400, 'invalid_input')
    }
    const after = assertOk(await sessionById(AK2, own.client_session_id)).client_session
    assert.deepEqual(after.connected_account_ids, [])
    assert.deepEqual(after.connect_webview_ids, [])
    assert.equal(after.device_count, 0)
    assert.deepEqual(await listIds(own.token), [])
  })

  it("cannot create a session holding workspace 1's resources (400)", async () => {
    for (const route of ['/client_sessions/create', '/client_sessions/get_or_create']) {
      for (const grant of [
        { connected_account_ids: [SEED.johnAccount] },
        { connect_webview_ids: [SEED.webview1] },
        { user_identity_id: SEED.johnIdentity },
      ]) {
        const uik = uniqueKey('ws2')
        const res = await call(srv, route, { token: AK2, body: { user_identifier_key: uik, ...grant } })
        assertError(res, 400, 'invalid_input')
        assert.deepEqual(await listSessions(srv, AK2, { user_identifier_key: uik }), [])
      }
    }
  })

  it("cannot grant anything to workspace 1's sessions (404) and nothing changes", async () => {
    const victim = await createIn(AK1)
    for (const body of [
      { client_session_id: victim.client_session_id, connected_account_ids: [] },
      { user_identifier_key: victim.user_identifier_key },
    ]) {
      const res = await call(srv, '/client_sessions/grant_access', { method: 'PATCH', token: AK2, body })
      assertError(res, 404)
    }
    const johns = await createIn(AK1, { connected_account_ids: [SEED.johnAccount] })
    const res = await call(srv, '/client_sessions/grant_access', {
      method: 'PATCH',
      token: AK2,
      body: { client_session_id: johns.client_session_id, connected_account_ids: [SEED.janeAccount] },
    })
    // Either refusal is right: jane's account is not workspace 2's (400),
    // and the session is not workspace 2's (404).
    assert.ok(res.status === 400 || res.status === 404, `got ${res.status}`)
    assertError(res, res.status)
    assert.deepEqual(await listIds(johns.token), JOHN_DEVICES)
    assert.deepEqual(await listIds(victim.token), [])
  })

  it("cannot revoke or delete workspace 1's sessions (404) and they keep working", async () => {
    const victim = await createIn(AK1, { connected_account_ids: [SEED.johnAccount] })
    for (const route of ['/client_sessions/revoke', '/client_sessions/delete']) {
      const res = await call(srv, route, {
        token: AK2,
        body: { client_session_id: victim.client_session_id },
      })
      assertError(res, 404)
    }
    await sdkRejects(
      sdkFromApiKey(srv, AK2).clientSessions.revoke({ client_session_id: victim.client_session_id }),
      404,
    )
    assert.deepEqual(await listIds(victim.token), JOHN_DEVICES)
    const still = assertOk(await sessionById(AK1, victim.client_session_id)).client_session
    assert.equal(still.token, victim.token)
    assert.equal(still.device_count, 4)
  })

  it("a user_identifier_key taken in workspace 1 is free in workspace 2, and separate", async () => {
    const one = await createIn(AK1, { connected_account_ids: [SEED.johnAccount] })
    const two = await createIn(AK2, { user_identifier_key: one.user_identifier_key })
    assert.notEqual(two.client_session_id, one.client_session_id)
    assert.equal(two.workspace_id, SEED.workspace2)
    assert.deepEqual(await listIds(two.token), [])
    assert.deepEqual(await listIds(AK2, { user_identifier_key: one.user_identifier_key }), [])
    assert.deepEqual(await listIds(AK1, { user_identifier_key: one.user_identifier_key }), JOHN_DEVICES)
  })
})

describe('a workspace 2 token', () => {
  it("sees no workspace 1 device and workspace 2's workspace", async () => {
    const s = await createIn(AK2)
    assert.deepEqual(await listIds(s.token), [])
    for (const id of ALL_DEVICES) {
      assertError(await getDevice(s.token, { device_id: id }), 404, 'device_not_found')
    }
    const ws = await call(srv, '/workspaces/get', { method: 'GET', token: s.token })
    assert.equal(assertOk(ws).workspace.workspace_id, SEED.workspace2)
  })

  it("cannot read workspace 1's sessions through client_sessions/get", async () => {
    const s = await createIn(AK2)
    assertError(await sessionById(s.token, SEED.session1), 404)
  })
})

describe("workspace 1's API key and workspace 2", () => {
  it("gets 404 for workspace 2's sessions and cannot revoke them", async () => {
    const s = await createIn(AK2)
    assertError(await sessionById(AK1, s.client_session_id), 404)
    assertError(
      await call(srv, '/client_sessions/revoke', { token: AK1, body: { client_session_id: s.client_session_id } }),
      404,
    )
    assert.deepEqual(await listIds(s.token), [])
  })
})
