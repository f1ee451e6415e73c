// Answers of read-only calls are kept in memory (the answer cache) and served
// again only while nothing of their workspace has changed: every change, made
// by this node, another node, or any process writing the database directly, is
// seen by the very next call; a kept answer never reaches another credential;
// and a session that expires or is revoked is refused even though its answers
// are kept. Runs on both backends (two nodes: two processes on one SQLite WAL
// file, or two on one PostgreSQL).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import {
  JANE_DEVICES,
  JOHN_DEVICES,
  SEED,
  BACKEND,
  assertError,
  assertOk,
  call,
  createSession,
  listDeviceIds,
  revokeSession,
  sdkFromApiKey,
  sdkFromToken,
  sdkRejects,
  sleep,
  sqlQuery,
  startServer,
} from './harness.mjs'

const sorted = (ids) => [...ids].sort()
const deviceName = async (server, token, deviceId) =>
  (await sdkFromToken(server, token).devices.get({ device_id: deviceId })).display_name

describe('the answer cache', () => {
  let a
  let b
  before(async () => {
    a = await startServer({ seed: true })
    b = await startServer({ sharedWith: a })
  })
  after(async () => {
    await b?.stop()
    await a?.stop()
  })

  test('a session sees a grant, a device change and its own revocation on its very next call', async () => {
    const session = await createSession(a, SEED.apiKey1, { connected_account_ids: [SEED.johnAccount] })
    const sdk = sdkFromToken(a, session.token)
    for (let i = 0; i < 3; i++) assert.deepEqual(sorted((await sdk.devices.list()).map((d) => d.device_id)), sorted(JOHN_DEVICES))

    const admin = sdkFromApiKey(a, SEED.apiKey1)
    await admin.clientSessions.grantAccess({
      client_session_id: session.client_session_id,
      connected_account_ids: [SEED.janeAccount],
    })
    assert.deepEqual(
      sorted((await sdk.devices.list()).map((d) => d.device_id)),
      sorted([...JOHN_DEVICES, ...JANE_DEVICES]),
    )

    const device = JOHN_DEVICES[0]
    assert.notEqual(await deviceName(a, session.token, device), 'renamed once')
    await admin.devices.update({ device_id: device, name: 'renamed once' })
    assert.equal(await deviceName(a, session.token, device), 'renamed once')

    await revokeSession(a, SEED.apiKey1, session.client_session_id)
    await sdkRejects(sdk.devices.list(), 401)
    await sdkRejects(sdkFromToken(b, session.token).devices.list(), 401)
  })

  test('the same question from two sessions, or narrowed to two users, gets each its own answer', async () => {
    const john = await createSession(a, SEED.apiKey1, { connected_account_ids: [SEED.johnAccount] })
    const jane = await createSession(a, SEED.apiKey1, { connected_account_ids: [SEED.janeAccount] })
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(sorted(await listDeviceIds(a, john.token)), sorted(JOHN_DEVICES))
      assert.deepEqual(sorted(await listDeviceIds(a, jane.token)), sorted(JANE_DEVICES))
      for (const s of [john, jane])
        assert.deepEqual(
          sorted(await listDeviceIds(a, SEED.apiKey1, { user_identifier_key: s.user_identifier_key })),
          sorted(s === john ? JOHN_DEVICES : JANE_DEVICES),
        )
    }
    // Another workspace's key asking the very same question sees none of it.
    const other = await call(a, '/devices/list', {
      method: 'GET',
      token: SEED.apiKey2,
      query: { user_identifier_key: john.user_identifier_key },
    })
    assert.deepEqual(assertOk(other, 'devices').devices, [])
    assertError(await call(a, '/devices/list', { method: 'GET', token: `${john.token}x` }), 401)
  })

  test('a change written straight into the database by another process is seen on the next call', async () => {
    const session = await createSession(a, SEED.apiKey1, { connected_account_ids: [SEED.johnAccount] })
    const device = JOHN_DEVICES[1]
    await deviceName(a, session.token, device)
    const name = `written by hand ${Date.now()}`
    await sqlQuery(a.dataDir, `UPDATE devices SET nickname = '${name}' WHERE device_id = '${device}'`)
    assert.equal(await deviceName(a, session.token, device), name)
  })

  test('an expired session is refused although its answers are kept', async () => {
    const expiresAt = Date.now() + 1500
    const session = await createSession(a, SEED.apiKey1, {
      connected_account_ids: [SEED.johnAccount],
      expires_at: new Date(expiresAt).toISOString(),
    })
    assert.equal((await listDeviceIds(a, session.token)).length, JOHN_DEVICES.length)
    assert.equal((await listDeviceIds(a, session.token)).length, JOHN_DEVICES.length)
    while (Date.now() <= expiresAt + 50) await sleep(50)
    assertError(await call(a, '/devices/list', { method: 'GET', token: session.token }), 401, 'client_session_expired')
  })

  test('what one node writes, the other answers with on its very next call, every time', async () => {
    const session = await createSession(a, SEED.apiKey1, { connected_account_ids: [SEED.johnAccount] })
    const device = JOHN_DEVICES[2]
    const writer = sdkFromApiKey(a, SEED.apiKey1)
    for (let i = 0; i < 30; i++) {
      const name = `round ${i} on ${BACKEND}`
      await writer.devices.update({ device_id: device, name })
      assert.equal(await deviceName(b, session.token, device), name, `round ${i}`)
      assert.equal(await deviceName(a, session.token, device), name, `round ${i}`)
    }
  })
})

describe('with --cache-mib 0', () => {
  let server
  before(async () => {
    server = await startServer({ seed: true, args: ['--cache-mib', '0'] })
  })
  after(async () => server?.stop())

  test('nothing is kept and the answers are the same', async () => {
    const session = await createSession(server, SEED.apiKey1, { connected_account_ids: [SEED.johnAccount] })
    assert.deepEqual(sorted(await listDeviceIds(server, session.token)), sorted(JOHN_DEVICES))
    await revokeSession(server, SEED.apiKey1, session.client_session_id)
    assertError(await call(server, '/devices/list', { method: 'GET', token: session.token }), 401)
  })

  test('a size out of range is refused at start', async () => {
    await assert.rejects(startServer({ args: ['--cache-mib', '70000'] }), /cache-mib/)
  })
})
