// Several latchkey nodes on one database behave as one server: what one node
// writes, the others see on their very next request; concurrent writes
// through different nodes stay correct; and device actions belong to the
// cluster (leases), not to whichever node happened to take them. Runs on
// both backends: SQLite (two processes on one WAL file) and PostgreSQL.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import {
  SEED,
  assertError,
  assertOk,
  call,
  createSession,
  listDeviceIds,
  sleep,
  sqlQuery,
  startServer,
  uniqueKey,
  withDataDir,
} from './harness.mjs'

/** Runs one SQL statement on the database a server uses. */
const sql = (server, statement) => sqlQuery(server.dataDir, statement)

/** Polls fn until it returns a truthy value or ms pass; returns the value. */
async function eventually(fn, ms, what) {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`)
    await sleep(100)
  }
}

const attemptOf = async (node, id) =>
  assertOk(
    await call(node, '/action_attempts/get', { token: SEED.apiKey1, body: { action_attempt_id: id } }),
    'action_attempt',
  ).action_attempt

describe('two nodes on one database', () => {
  let a
  let b
  before(async () => {
    a = await startServer()
    b = await startServer({ sharedWith: a })
  })
  after(async () => {
    await b?.stop()
    await a?.stop()
  })

  test('a session created on A works on B', async () => {
    const session = await createSession(a, SEED.apiKey1, { connected_account_ids: [SEED.johnAccount] })
    const ids = await listDeviceIds(b, session.token)
    assert.equal(ids.length, 4)
  })

  test('revoking on A: B refuses the token at its next request', async () => {
    const session = await createSession(a, SEED.apiKey1, { connected_account_ids: [SEED.johnAccount] })
    await listDeviceIds(b, session.token) // B has seen (and could have cached) it
    assertOk(await call(a, '/client_sessions/revoke', { token: SEED.apiKey1, body: { client_session_id: session.client_session_id } }))
    assertError(await call(b, '/devices/list', { method: 'GET', token: session.token }), 401)
  })

  test('deleting on A: B refuses the token at its next request', async () => {
    const session = await createSession(a, SEED.apiKey1, { connected_account_ids: [SEED.johnAccount] })
    await listDeviceIds(b, session.token)
    assertOk(await call(a, '/client_sessions/delete', { token: SEED.apiKey1, body: { client_session_id: session.client_session_id } }))
    assertError(await call(b, '/devices/list', { method: 'GET', token: session.token }), 401)
  })

  test('deleting a device or an account on A: B no longer shows it', async () => {
    const session = await createSession(a, SEED.apiKey1, {
      connected_account_ids: [SEED.johnAccount, SEED.janeAccount],
    })
    assert.ok((await listDeviceIds(b, session.token)).includes('minut_device_1'))
    assertOk(await call(a, '/devices/delete', { token: SEED.apiKey1, body: { device_id: 'minut_device_1' } }))
    assert.ok(!(await listDeviceIds(b, session.token)).includes('minut_device_1'))
    assertError(await call(b, '/devices/get', { token: session.token, body: { device_id: 'minut_device_1' } }), 404)
    assertOk(await call(a, '/connected_accounts/delete', { token: SEED.apiKey1, body: { connected_account_id: SEED.janeAccount } }))
    assert.ok(!(await listDeviceIds(b, session.token)).includes('schlage_device_id'))
    assertError(
      await call(b, '/connected_accounts/get', { token: session.token, body: { connected_account_id: SEED.janeAccount } }),
      404,
    )
  })

  test('20 concurrent get_or_create for one user, alternating nodes: one session, no errors', async () => {
    const key = uniqueKey('race')
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(i % 2 ? b : a, '/client_sessions/get_or_create', {
          token: SEED.apiKey1,
          body: { user_identifier_key: key },
        }),
      ),
    )
    const ids = new Set(results.map((r) => assertOk(r, 'client_session').client_session.client_session_id))
    assert.equal(ids.size, 1, `one session, got ${[...ids]}`)
    const list = assertOk(
      await call(b, '/client_sessions/list', { method: 'GET', token: SEED.apiKey1, query: { user_identifier_key: key } }),
    ).client_sessions
    assert.equal(list.length, 1)
  })

  test('50 concurrent metadata updates with different keys, alternating nodes: every key kept', async () => {
    const device = 'august_device_2'
    const prefix = `k${Date.now()}`
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(i % 2 ? b : a, '/devices/update', {
          token: SEED.apiKey1,
          body: { device_id: device, custom_metadata: { [`${prefix}_${i}`]: `v${i}` } },
        }),
      ),
    )
    for (const r of results) assertOk(r)
    const got = assertOk(await call(a, '/devices/get', { token: SEED.apiKey1, body: { device_id: device } }), 'device')
      .device.custom_metadata
    const keys = Object.keys(got).filter((k) => k.startsWith(prefix))
    assert.equal(keys.length, 50, `all 50 keys kept, got ${keys.length}`)
  })

  test('access codes: each scheduled change happens once, whichever node claims it', async () => {
    const start = Date.now() + 1500
    const nodes = [a, b]
    const ids = []
    for (let i = 0; i < 8; i++) {
      const res = await call(nodes[i % 2], '/access_codes/create', {
        token: SEED.apiKey1,
        body: {
          device_id: 'august_device_1',
          code: String(70000 + i),
          starts_at: new Date(start).toISOString(),
          ends_at: new Date(start + 1500).toISOString(),
        },
      })
      ids.push(assertOk(res, 'access_code').access_code.access_code_id)
    }
    for (const id of ids) {
      await eventually(
        async () =>
          (await call(nodes[ids.indexOf(id) % 2], '/access_codes/get', { token: SEED.apiKey1, body: { access_code_id: id } }))
            .status === 404,
        15_000,
        `access code ${id} removed at its end`,
      )
    }
    for (const id of ids) {
      const { events } = assertOk(
        await call(b, '/events/list', { token: SEED.apiKey1, body: { since: '2000-01-01T00:00:00Z', access_code_id: id } }),
        'events',
      )
      assert.deepEqual(
        events.map((e) => e.event_type),
        ['access_code.created', 'access_code.set_on_device', 'access_code.removed_from_device', 'access_code.deleted'],
        `the events of ${id}`,
      )
    }
  })
})

describe('action attempts belong to the cluster', () => {
  const unlock = async (node, device) => {
    const res = await call(node, '/locks/unlock_door', { token: SEED.apiKey1, body: { device_id: device } })
    return assertOk(res, 'action_attempt').action_attempt
  }
  const completed = (node, id) =>
    eventually(
      async () => {
        const x = await attemptOf(node, id)
        return x.status === 'success' && x
      },
      20_000,
      `action attempt ${id} succeeds`,
    )
  const lockedOn = async (node, device) =>
    assertOk(await call(node, '/devices/get', { token: SEED.apiKey1, body: { device_id: device } }), 'device').device
      .properties.locked

  test('an unlock accepted by A completes after A is killed with SIGKILL', async () => {
    await withDataDir(async (dir) => {
      // A's attempts are due in 1.5 s: A dies before it could act on this one.
      const a = await startServer({ dataDir: dir, args: ['--action-delay-ms', '1500'] })
      const b = await startServer({ sharedWith: a })
      try {
        assert.equal(await lockedOn(b, 'august_device_1'), true)
        const attempt = await unlock(a, 'august_device_1')
        assert.equal(attempt.status, 'pending')
        await a.kill()
        await completed(b, attempt.action_attempt_id)
        assert.equal(await lockedOn(b, 'august_device_1'), false)
      } finally {
        await b.stop()
        await a.stop()
      }
    })
  })

  test('a restarting node leaves an attempt another node holds, and takes it over once its lease runs out', async () => {
    await withDataDir(async (dir) => {
      let a = await startServer({ dataDir: dir, args: ['--action-delay-ms', '600000'] })
      try {
        const attempt = await unlock(a, 'august_device_2')
        const id = attempt.action_attempt_id
        // Another node took it a moment ago (it is running, due long since)
        // and holds a lease for a minute.
        await sql(
          a,
          `UPDATE action_attempts SET status = 'running', due_at = ${Date.now() - 60_000},` +
            ` lease_owner = 'another-node', lease_expires_at = ${Date.now() + 60_000}` +
            ` WHERE action_attempt_id = '${id}'`,
        )
        await a.stop()
        a = await startServer({ dataDir: dir, seed: false })
        await sleep(1500) // A's worker has looked at least once
        const held = await attemptOf(a, id)
        assert.equal(held.status, 'pending', 'the API shows a running attempt as pending')
        assert.equal(await sql(a, `SELECT lease_owner FROM action_attempts WHERE action_attempt_id = '${id}'`), 'another-node')
        assert.equal(await lockedOn(a, 'august_device_2'), true, 'A did not run it')
        // That node died: its lease runs out, and A completes the attempt.
        await sql(a, `UPDATE action_attempts SET lease_expires_at = ${Date.now() - 1} WHERE action_attempt_id = '${id}'`)
        await completed(a, id)
        assert.equal(await lockedOn(a, 'august_device_2'), false)
      } finally {
        await a.stop()
      }
    })
  })

  test('sync: true on A answers when the attempt is completed elsewhere', async () => {
    // A's own worker would act only in ten minutes: the attempt is
    // completed by another node, here written to the database directly.
    const a = await startServer({ args: ['--action-delay-ms', '600000'] })
    try {
      const started = Date.now()
      const answer = call(a, '/locks/unlock_door', {
        token: SEED.apiKey1,
        body: { device_id: 'august_device_1', sync: true },
      })
      await sleep(500)
      await sql(
        a,
        `UPDATE action_attempts SET status = 'success', completed_at = ${Date.now()}` +
          ` WHERE device_id = 'august_device_1' AND status = 'pending'`,
      )
      const attempt = assertOk(await answer, 'action_attempt').action_attempt
      assert.equal(attempt.status, 'success')
      assert.ok(Date.now() - started < 10_000, 'answered when it completed, not at the time limit')
    } finally {
      await a.stop()
    }
  })
})
