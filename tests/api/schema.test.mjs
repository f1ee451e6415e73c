// Every successful SDK-visible response body of the routes we serve, fetched
// raw, must match the 200 response schema of the OpenAPI document exported
// by @seamapi/types (shared/API.md: the authoritative contract).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import {
  ALL_DEVICES,
  SEED,
  assertMatchesSchema,
  assertOk,
  call,
  createSession,
  isUuid,
  responseValidator,
  uniqueKey,
  useServer,
} from './harness.mjs'

const srv = useServer()
const AK = SEED.apiKey1
const PK = SEED.publishableKey1

/** Calls, asserts 200, validates against the schema of that method. */
async function checked(route, opts) {
  const method = (opts.method ?? 'POST').toLowerCase()
  const res = await call(srv, route, opts)
  const body = assertOk(res)
  assertMatchesSchema(route, body, method)
  return body
}

/** A created session, checked: ids we mint are real UUIDs. */
function assertMinted(cs) {
  assert.ok(isUuid(cs.client_session_id), `client_session_id ${cs.client_session_id} is not a UUID`)
}

describe('the validator itself', () => {
  it('rejects bodies that do not match (so the checks below can fail)', () => {
    const list = responseValidator('/devices/list', 'get')
    assert.equal(list({ ok: true }), false)
    const get = responseValidator('/client_sessions/get', 'get')
    const good = {
      ok: true,
      client_session: {
        client_session_id: '3b6c9f3e-8a0e-4a3b-9d55-5f1a2b3c4d5e',
        workspace_id: SEED.workspace1,
        created_at: '2026-01-01T00:00:00.000Z',
        expires_at: '2026-01-02T00:00:00.000Z',
        token: 'seam_cst1_x',
        user_identifier_key: null,
        device_count: 0,
        connected_account_ids: [],
        connect_webview_ids: [],
        user_identity_ids: [],
      },
    }
    assert.equal(get(good), true, JSON.stringify(get.errors))
    assert.equal(get({ ...good, client_session: { ...good.client_session, client_session_id: 'not-a-uuid' } }), false)
    assert.equal(get({ ...good, client_session: { ...good.client_session, device_count: '4' } }), false)
    const { token, ...noToken } = good.client_session
    assert.equal(get({ ...good, client_session: noToken }), false)
  })
})

describe('workspaces/get', () => {
  it('GET and POST, with an API key and with a client session token', async () => {
    await checked('/workspaces/get', { method: 'GET', token: AK })
    await checked('/workspaces/get', { token: AK, body: {} })
    await checked('/workspaces/get', { method: 'GET', token: SEED.cst1 })
    await checked('/workspaces/get', { method: 'GET', token: SEED.apiKey2 })
  })
})

describe('client_sessions', () => {
  it('create (POST and PUT), with and without grants and key', async () => {
    const a = await checked('/client_sessions/create', {
      token: AK,
      body: { user_identifier_key: uniqueKey('schema') },
    })
    assertMinted(a.client_session)
    const b = await checked('/client_sessions/create', {
      method: 'PUT',
      token: AK,
      body: {
        user_identifier_key: uniqueKey('schema'),
        connected_account_ids: [SEED.johnAccount],
        connect_webview_ids: [SEED.webview1],
        user_identity_id: SEED.johnIdentity,
        customer_key: 'cust_1',
        expires_at: new Date(Date.now() + 3600_000).toISOString(),
      },
    })
    assertMinted(b.client_session)
    const c = await checked('/client_sessions/create', { token: AK, body: {} })
    assertMinted(c.client_session)
    assert.equal(c.client_session.user_identifier_key, null)
    const pk = await checked('/client_sessions/create', {
      headers: { 'seam-publishable-key': PK },
      body: { user_identifier_key: uniqueKey('schema_pk') },
    })
    assertMinted(pk.client_session)
  })

  it('get, by id, by key, and with the own token', async () => {
    await checked('/client_sessions/get', {
      method: 'GET',
      token: AK,
      query: { client_session_id: SEED.session1 },
    })
    await checked('/client_sessions/get', { token: AK, body: { user_identifier_key: SEED.johnKey } })
    await checked('/client_sessions/get', { method: 'GET', token: SEED.cst1 })
  })

  it('list, all and filtered', async () => {
    await call(srv, '/client_sessions/create', { token: AK, body: {} })
    const all = await checked('/client_sessions/list', { method: 'GET', token: AK })
    assert.ok(all.client_sessions.length >= 2)
    await checked('/client_sessions/list', { token: AK, body: { without_user_identifier_key: true } })
    await checked('/client_sessions/list', {
      method: 'GET',
      token: AK,
      query: { connect_webview_id: SEED.webview1 },
    })
    const empty = await checked('/client_sessions/list', { method: 'GET', token: SEED.apiKey2 })
    assert.ok(Array.isArray(empty.client_sessions))
  })

  it('get_or_create, with an API key and with a publishable key', async () => {
    const uik = uniqueKey('schema_goc')
    const a = await checked('/client_sessions/get_or_create', {
      token: AK,
      body: { user_identifier_key: uik, connected_account_ids: [SEED.janeAccount] },
    })
    assertMinted(a.client_session)
    await checked('/client_sessions/get_or_create', { token: AK, body: { user_identifier_key: uik } })
    await checked('/client_sessions/get_or_create', {
      headers: { 'seam-publishable-key': PK, 'seam-user-identifier-key': uniqueKey('schema_pk') },
      body: {},
    })
  })

  it('grant_access (PATCH and POST)', async () => {
    const uik = uniqueKey('schema_grant')
    const created = await createSession(srv, AK, { user_identifier_key: uik })
    await checked('/client_sessions/grant_access', {
      method: 'PATCH',
      token: AK,
      body: { client_session_id: created.client_session_id, connected_account_ids: [SEED.johnAccount] },
    })
    await checked('/client_sessions/grant_access', {
      token: AK,
      body: { user_identifier_key: uik, connect_webview_ids: [SEED.webview1] },
    })
  })

  it('revoke and delete', async () => {
    const make = async () =>
      assertOk(await call(srv, '/client_sessions/create', { token: AK, body: {} })).client_session
        .client_session_id
    await checked('/client_sessions/revoke', { token: AK, body: { client_session_id: await make() } })
    await checked('/client_sessions/delete', { token: AK, body: { client_session_id: await make() } })
    await checked('/client_sessions/delete', {
      method: 'DELETE',
      token: AK,
      body: { client_session_id: await make() },
    })
  })
})

describe('devices', () => {
  it('devices/get for each seed device (GET and POST)', async () => {
    for (const device_id of ALL_DEVICES) {
      await checked('/devices/get', { method: 'GET', token: AK, query: { device_id } })
      await checked('/devices/get', { token: AK, body: { device_id } })
    }
  })

  it('devices/get with a client session token', async () => {
    await checked('/devices/get', { method: 'GET', token: SEED.cst1, query: { name: 'Front Door' } })
  })

  it('devices/list: everything, a token, filtered, empty', async () => {
    await checked('/devices/list', { method: 'GET', token: AK })
    await checked('/devices/list', { token: AK, body: {} })
    await checked('/devices/list', { method: 'GET', token: SEED.cst1 })
    await checked('/devices/list', { method: 'GET', token: AK, query: { device_type: 'ecobee_thermostat' } })
    await checked('/devices/list', { method: 'GET', token: SEED.apiKey2 })
  })

  it('devices/list with a next page (cursor and next_page_url)', async () => {
    const p1 = await checked('/devices/list', { method: 'GET', token: AK, query: { limit: 2 } })
    assert.equal(p1.pagination.has_next_page, true)
    const p3 = await checked('/devices/list', {
      method: 'GET',
      token: AK,
      query: { limit: 4, page_cursor: p1.pagination.next_page_cursor },
    })
    assert.equal(p3.pagination.has_next_page, false)
  })
})
