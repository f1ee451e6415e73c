// The --seed fixture (shared/API.md "The fixture"): its ids, tokens and
// devices, workspaces/get with each credential, and a restart of the same
// data dir with --seed again (no duplicates; what was created survives).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import {
  ALL_DEVICES,
  JANE_DEVICES,
  JOHN_DEVICES,
  SEED,
  assertOk,
  call,
  createSession,
  deviceIds,
  deviceIdsOf,
  getSession,
  listDeviceIds,
  listSessions,
  sdkFromApiKey,
  sdkFromToken,
  useServer,
  withDataDir,
  withServer,
} from './harness.mjs'

const srv = useServer()

describe('the fixture', () => {
  it("seam_cst1_token answers with john's four devices", async () => {
    const devices = await sdkFromToken(srv, SEED.cst1).devices.list()
    assert.deepEqual(deviceIdsOf(devices), JOHN_DEVICES)
    for (const d of devices) assert.equal(d.connected_account_id, SEED.johnAccount)
  })

  it('seam_apikey1_token sees the five devices of workspace 1 in order', async () => {
    const res = await call(srv, '/devices/list', { method: 'GET', token: SEED.apiKey1 })
    const body = assertOk(res)
    assert.deepEqual(deviceIds(body), ALL_DEVICES)
    for (const d of body.devices) assert.equal(d.workspace_id, SEED.workspace1)
  })

  it('seam_apikey2_token sees the empty workspace 2', async () => {
    assert.deepEqual(await listDeviceIds(srv, SEED.apiKey2), [])
  })

  it('the seed client session holds what API.md lists', async () => {
    const res = await getSession(srv, SEED.apiKey1, { client_session_id: SEED.session1 })
    const cs = assertOk(res).client_session
    assert.equal(cs.client_session_id, SEED.session1)
    assert.equal(cs.workspace_id, SEED.workspace1)
    assert.equal(cs.token, SEED.cst1)
    assert.equal(cs.user_identifier_key, SEED.johnKey)
    assert.ok(cs.connected_account_ids.includes(SEED.johnAccount))
    assert.ok(!cs.connected_account_ids.includes(SEED.janeAccount))
    assert.deepEqual(cs.connect_webview_ids, [SEED.webview1])
    assert.equal(cs.user_identity_id, SEED.johnIdentity)
    assert.equal(cs.device_count, 4)
    assert.ok(Date.parse(cs.expires_at) > Date.now() + 30 * 86400_000, 'the fixture outlives tests')
  })
})

describe('workspaces/get', () => {
  it('with the API key of workspace 1', async () => {
    const ws = await sdkFromApiKey(srv, SEED.apiKey1).workspaces.get()
    assert.equal(ws.workspace_id, SEED.workspace1)
    assert.equal(ws.name, 'My Workspace')
    assert.equal(ws.is_sandbox, true)
    assert.equal(ws.publishable_key, SEED.publishableKey1)
  })

  it('with the API key of workspace 2', async () => {
    const ws = await sdkFromApiKey(srv, SEED.apiKey2).workspaces.get()
    assert.equal(ws.workspace_id, SEED.workspace2)
    assert.equal(ws.name, 'Empty Workspace')
  })

  it('with the seed client session token', async () => {
    const ws = await sdkFromToken(srv, SEED.cst1).workspaces.get()
    assert.equal(ws.workspace_id, SEED.workspace1)
    assert.equal(ws.name, 'My Workspace')
  })

  it('GET and POST answer the same', async () => {
    const get = await call(srv, '/workspaces/get', { method: 'GET', token: SEED.cst1 })
    const post = await call(srv, '/workspaces/get', { token: SEED.cst1, body: {} })
    assert.deepEqual(assertOk(get), assertOk(post))
  })
})

describe('restart with --seed on the same data dir', () => {
  it('does not duplicate the fixture, and keeps what was created', () =>
    withDataDir(async (dir) => {
      const grant = { connected_account_ids: [SEED.janeAccount] }
      const created = await withServer({ dataDir: dir }, (first) =>
        createSession(first, SEED.apiKey1, grant, { label: 'survivor' }),
      )

      await withServer({ dataDir: dir }, async (second) => {
        assert.ok(!/seed.*(fail|error)/i.test(second.stderr()), second.stderr())
        assert.deepEqual(await listDeviceIds(second, SEED.apiKey1), ALL_DEVICES)
        const johns = await sdkFromToken(second, SEED.cst1).devices.list()
        assert.deepEqual(deviceIdsOf(johns), JOHN_DEVICES)
        const seedSessions = await listSessions(second, SEED.apiKey1, {
          user_identifier_key: SEED.johnKey,
        })
        assert.deepEqual(seedSessions.map((s) => s.client_session_id), [SEED.session1])
        const ws2 = await call(second, '/workspaces/get', { method: 'GET', token: SEED.apiKey2 })
        assert.equal(assertOk(ws2).workspace.workspace_id, SEED.workspace2)
        // The session created before the restart, and its token, survive.
        const got = await getSession(second, SEED.apiKey1, {
          client_session_id: created.client_session_id,
        })
        assert.equal(assertOk(got).client_session.token, created.token)
        assert.deepEqual(await listDeviceIds(second, created.token), JANE_DEVICES)
      })
    }))
})
