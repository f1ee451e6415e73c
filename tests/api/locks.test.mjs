// locks/get, locks/list, locks/lock_door, locks/unlock_door and
// action_attempts/get, list: a pending attempt at once, success after the
// action delay, sync:true, the SDK waiting by default, offline locks failing,
// scope (nothing changes for a device outside it), and pending attempts that
// survive a restart.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { SeamActionAttemptFailedError } from '@seamapi/http/connect'

import {
  SEED,
  assertError,
  assertInvalidInput,
  assertResponseMatchesSchema,
  assertOk,
  call,
  makeDataDir,
  removeDir,
  sdkFromApiKey,
  sdkFromToken,
  sdkRejects,
  sleep,
  startServer,
  useServer,
  uniqueKey,
} from './harness.mjs'
import { LOGINS, accountDevices, connectAccount, newSandboxWorkspace, waitFor } from './webview_flow.mjs'

const DELAY_MS = 600

const srv = useServer({ args: ['--action-delay-ms', String(DELAY_MS)] })

const AK = SEED.apiKey1
const SEED_LOCKS = ['august_device_1', 'august_device_2', 'schlage_device_id']

async function getDevice(id, token = AK, server = srv) {
  return assertOk(
    await call(server, '/devices/get', { method: 'GET', token, query: { device_id: id } }),
    'device',
  ).device
}

async function attemptRaw(id, token = AK, server = srv) {
  return call(server, '/action_attempts/get', {
    method: 'GET',
    token,
    query: { action_attempt_id: id },
  })
}

async function attempt(id, token = AK, server = srv) {
  const out = assertOk(await attemptRaw(id, token, server), 'action_attempt')
  assertResponseMatchesSchema('/action_attempts/get', out, 'get')
  return out.action_attempt
}

async function act(route, deviceId, token = AK, extra = {}, server = srv) {
  const res = await call(server, `/locks/${route}`, { token, body: { device_id: deviceId, ...extra } })
  const out = assertOk(res, 'action_attempt')
  assertResponseMatchesSchema(`/locks/${route}`, out)
  return out.action_attempt
}

async function settled(id, token = AK, server = srv) {
  return waitFor(
    async () => {
      const a = await attempt(id, token, server)
      return a.status !== 'pending' ? a : null
    },
    { ms: 15_000, what: `action attempt ${id} to settle` },
  )
}

async function listAttempts(query, token = AK) {
  const out = assertOk(
    await call(srv, '/action_attempts/list', { method: 'GET', token, query }),
    'action_attempts',
  )
  assertResponseMatchesSchema('/action_attempts/list', out, 'get')
  return out.action_attempts
}

/** A fresh workspace with jane's two august locks (and the offline login). */
async function janeLocks(provider = 'august') {
  const ws = await newSandboxWorkspace(srv, `Locks ${provider}`)
  const { connected_account_id } = await connectAccount(srv, ws.apiKey, { provider, username: LOGINS.jane })
  const devices = (await accountDevices(srv, ws.apiKey, connected_account_id))
  return { ws, connected_account_id, devices }
}

describe('locks/get and locks/list', () => {
  it('locks/list with an API key: the three seed locks, no thermostat or sensor', async () => {
    const res = await call(srv, '/locks/list', { method: 'GET', token: AK })
    const out = assertOk(res, 'locks')
    assertResponseMatchesSchema('/locks/list', out, 'get')
    assert.deepEqual(
      out.locks.map((d) => d.device_id),
      SEED_LOCKS,
    )
    assert.deepEqual(out.devices, out.locks)
  })

  it("locks/list with the seed token: john's two august locks", async () => {
    const out = assertOk(await call(srv, '/locks/list', { token: SEED.cst1, body: {} }), 'locks')
    assertResponseMatchesSchema('/locks/list', out)
    assert.deepEqual(
      out.locks.map((d) => d.device_id),
      ['august_device_1', 'august_device_2'],
    )
    const viaSdk = await sdkFromToken(srv, SEED.cst1).locks.list()
    assert.deepEqual(
      viaSdk.map((d) => d.device_id),
      ['august_device_1', 'august_device_2'],
    )
  })

  it('locks/list filters: connected_account_id, device_ids, user_identifier_key, manufacturer', async () => {
    const ids = async (query) =>
      assertOk(await call(srv, '/locks/list', { method: 'GET', token: AK, query })).locks.map((d) => d.device_id)
    assert.deepEqual(await ids({ connected_account_id: SEED.janeAccount }), ['schlage_device_id'])
    assert.deepEqual(await ids({ device_ids: ['august_device_2', 'ecobee_device_1'] }), ['august_device_2'])
    assert.deepEqual(await ids({ user_identifier_key: SEED.johnKey }), ['august_device_1', 'august_device_2'])
    assert.deepEqual(await ids({ user_identifier_key: uniqueKey('nobody') }), [])
    assert.deepEqual(await ids({ manufacturer: 'schlage' }), ['schlage_device_id'])
  })

  it('locks/get: the lock as both lock and device', async () => {
    const res = await call(srv, '/locks/get', { method: 'GET', token: AK, query: { device_id: 'august_device_1' } })
    const out = assertOk(res, 'lock')
    assertResponseMatchesSchema('/locks/get', out, 'get')
    assert.equal(out.lock.device_id, 'august_device_1')
    assert.deepEqual(out.device, out.lock)
    assert.equal(out.lock.properties.locked, true)
    const viaSdk = await sdkFromToken(srv, SEED.cst1).locks.get({ device_id: 'august_device_2' })
    assert.equal(viaSdk.device_id, 'august_device_2')
  })

  it('locks/get outside the scope or unknown: 404 device_not_found', async () => {
    for (const [token, id] of [
      [SEED.cst1, 'schlage_device_id'],
      [SEED.apiKey2, 'august_device_1'],
      [AK, 'no_such_lock'],
    ]) {
      assertError(
        await call(srv, '/locks/get', { method: 'GET', token, query: { device_id: id } }),
        404,
        'device_not_found',
      )
    }
  })
})

describe('unlock_door and lock_door', () => {
  it('unlock_door answers a pending attempt at once; it succeeds after the delay', async () => {
    const { ws, devices } = await janeLocks('august')
    const lock = devices.find((d) => d.properties.locked === true) ?? devices[0]
    if (lock.properties.locked !== true) {
      await act('lock_door', lock.device_id, ws.apiKey, { sync: true })
    }
    const started = Date.now()
    const res = await call(srv, '/locks/unlock_door', { token: ws.apiKey, body: { device_id: lock.device_id } })
    const answeredIn = Date.now() - started // (the schema check below compiles slowly the first time)
    const out = assertOk(res, 'action_attempt')
    assertResponseMatchesSchema('/locks/unlock_door', out)
    const pending = out.action_attempt
    assert.equal(pending.status, 'pending')
    assert.equal(pending.action_type, 'UNLOCK_DOOR')
    assert.equal(pending.result, null)
    assert.equal(pending.error, null)
    assert.ok(answeredIn < DELAY_MS, `answered in ${answeredIn} ms, not at once`)
    // Still locked and pending right after.
    const early = await attempt(pending.action_attempt_id, ws.apiKey)
    if (Date.now() - started < DELAY_MS * 0.6) {
      assert.equal(early.status, 'pending')
      assert.equal((await getDevice(lock.device_id, ws.apiKey)).properties.locked, true)
    }
    const done = await settled(pending.action_attempt_id, ws.apiKey)
    assert.ok(Date.now() - started >= DELAY_MS * 0.8, 'completed no earlier than the delay')
    assert.equal(done.status, 'success')
    assert.equal(done.action_type, 'UNLOCK_DOOR')
    assert.equal(done.error, null)
    assert.equal(typeof done.result, 'object')
    assert.equal(done.action_attempt_id, pending.action_attempt_id)
    assert.equal((await getDevice(lock.device_id, ws.apiKey)).properties.locked, false)
  })

  it('lock_door: pending, then success and locked', async () => {
    const { ws, devices } = await janeLocks('yale')
    const lock = devices[0]
    await act('unlock_door', lock.device_id, ws.apiKey, { sync: true })
    const pending = await act('lock_door', lock.device_id, ws.apiKey)
    assert.equal(pending.status, 'pending')
    assert.equal(pending.action_type, 'LOCK_DOOR')
    const done = await settled(pending.action_attempt_id, ws.apiKey)
    assert.equal(done.status, 'success')
    assert.equal(done.action_type, 'LOCK_DOOR')
    assert.equal((await getDevice(lock.device_id, ws.apiKey)).properties.locked, true)
  })

  it('sync: true answers once the attempt is done', async () => {
    const { ws, devices } = await janeLocks('schlage')
    const lock = devices[1]
    const started = Date.now()
    const unlocked = await act('unlock_door', lock.device_id, ws.apiKey, { sync: true })
    assert.ok(Date.now() - started >= DELAY_MS * 0.8, 'sync waited for the provider')
    assert.equal(unlocked.status, 'success')
    assert.equal((await getDevice(lock.device_id, ws.apiKey)).properties.locked, false)
    const locked = await act('lock_door', lock.device_id, ws.apiKey, { sync: true })
    assert.equal(locked.status, 'success')
    assert.equal((await getDevice(lock.device_id, ws.apiKey)).properties.locked, true)
    // The stored attempt agrees.
    assert.deepEqual(await attempt(locked.action_attempt_id, ws.apiKey), locked)
  })

  it('the SDK waits for the attempt by default and resolves to success', async () => {
    const { ws, devices } = await janeLocks('nuki')
    const seam = sdkFromApiKey(srv, ws.apiKey)
    const lock = devices[0]
    const unlocked = await seam.locks.unlockDoor({ device_id: lock.device_id })
    assert.equal(unlocked.status, 'success')
    assert.equal(unlocked.action_type, 'UNLOCK_DOOR')
    assert.equal((await seam.locks.get({ device_id: lock.device_id })).properties.locked, false)
    const locked = await seam.locks.lockDoor({ device_id: lock.device_id })
    assert.equal(locked.status, 'success')
    assert.equal((await seam.locks.get({ device_id: lock.device_id })).properties.locked, true)
    // Without waiting: pending.
    const pending = await seam.locks.unlockDoor({ device_id: lock.device_id }, { waitForActionAttempt: false })
    assert.equal(pending.status, 'pending')
    const done = await seam.actionAttempts.get(
      { action_attempt_id: pending.action_attempt_id },
      { waitForActionAttempt: { pollingInterval: 100, timeout: 10_000 } },
    )
    assert.equal(done.status, 'success')
  })

  it('a client session token acts on its own locks (the SDK polls with the token)', async () => {
    const ws = await newSandboxWorkspace(srv, 'Locks token')
    const session = assertOk(
      await call(srv, '/client_sessions/create', { token: ws.apiKey, body: { user_identifier_key: uniqueKey('lk') } }),
    ).client_session
    await connectAccount(srv, session.token, { provider: 'august', username: LOGINS.john })
    const client = sdkFromToken(srv, session.token)
    const locks = await client.locks.list()
    assert.equal(locks.length, 3)
    const target = locks.find((d) => d.properties.locked === false)
    assert.ok(target, "john's logins include an unlocked lock")
    const res = await client.locks.lockDoor({ device_id: target.device_id })
    assert.equal(res.status, 'success')
    assert.equal((await client.devices.get({ device_id: target.device_id })).properties.locked, true)
    assert.equal((await attempt(res.action_attempt_id, session.token)).status, 'success')
    // An attempt the backend made on the session's lock is visible to the token too.
    const byBackend = await act('unlock_door', target.device_id, ws.apiKey, { sync: true })
    assert.equal((await attempt(byBackend.action_attempt_id, session.token)).action_attempt_id, byBackend.action_attempt_id)
  })

  it('the seed token unlocks and locks a seed lock through the SDK', async () => {
    const client = sdkFromToken(srv, SEED.cst1)
    const unlocked = await client.locks.unlockDoor({ device_id: 'august_device_2' })
    assert.equal(unlocked.status, 'success')
    assert.equal((await client.locks.get({ device_id: 'august_device_2' })).properties.locked, false)
    const locked = await client.locks.lockDoor({ device_id: 'august_device_2' })
    assert.equal(locked.status, 'success')
    assert.equal((await client.locks.get({ device_id: 'august_device_2' })).properties.locked, true)
  })

  it('an offline lock: the attempt fails with device_offline and the lock is unchanged', async () => {
    const ws = await newSandboxWorkspace(srv, 'Locks offline')
    const { connected_account_id } = await connectAccount(srv, ws.apiKey, {
      provider: 'august',
      username: LOGINS.offline,
    })
    const devices = (await accountDevices(srv, ws.apiKey, connected_account_id))
    const offline = devices.find((d) => d.properties.online === false)
    const online = devices.find((d) => d.properties.online === true)
    assert.ok(offline && online)
    const before = await getDevice(offline.device_id, ws.apiKey)
    const pending = await act('unlock_door', offline.device_id, ws.apiKey)
    const done = await settled(pending.action_attempt_id, ws.apiKey)
    assert.equal(done.status, 'error')
    assert.equal(done.result, null)
    assert.equal(done.error?.type, 'device_offline')
    assert.equal(typeof done.error?.message, 'string')
    assert.deepEqual((await getDevice(offline.device_id, ws.apiKey)).properties.locked, before.properties.locked)
    // The SDK rejects with the failed attempt.
    await assert.rejects(
      sdkFromApiKey(srv, ws.apiKey).locks.lockDoor({ device_id: offline.device_id }),
      (err) => {
        assert.ok(err instanceof SeamActionAttemptFailedError, String(err))
        assert.equal(err.code, 'device_offline')
        return true
      },
    )
    // The online one works.
    assert.equal((await act('unlock_door', online.device_id, ws.apiKey, { sync: true })).status, 'success')
  })

  it('many actions at once on several locks all complete', async () => {
    const ws = await newSandboxWorkspace(srv, 'Locks parallel')
    const ids = []
    for (const provider of ['august', 'yale', 'schlage']) {
      const { connected_account_id } = await connectAccount(srv, ws.apiKey, { provider, username: LOGINS.john })
      ids.push(
        ...(await accountDevices(srv, ws.apiKey, connected_account_id)).map((d) => d.device_id),
      )
    }
    assert.equal(ids.length, 9)
    const attempts = await Promise.all(ids.map((id) => act('unlock_door', id, ws.apiKey)))
    const done = await Promise.all(attempts.map((a) => settled(a.action_attempt_id, ws.apiKey)))
    for (const d of done) assert.equal(d.status, 'success')
    for (const id of ids) assert.equal((await getDevice(id, ws.apiKey)).properties.locked, false)
    const locked = await Promise.all(ids.map((id) => act('lock_door', id, ws.apiKey, { sync: true })))
    for (const a of locked) assert.equal(a.status, 'success')
    for (const id of ids) assert.equal((await getDevice(id, ws.apiKey)).properties.locked, true)
  })

  it('sync: true on an offline lock answers the failed attempt', async () => {
    const ws = await newSandboxWorkspace(srv, 'Locks offline sync')
    const { connected_account_id } = await connectAccount(srv, ws.apiKey, {
      provider: 'schlage',
      username: LOGINS.offline,
    })
    const offline = (await accountDevices(srv, ws.apiKey, connected_account_id)).find((d) => d.properties.online === false)
    const a = await act('lock_door', offline.device_id, ws.apiKey, { sync: true })
    assert.equal(a.status, 'error')
    assert.equal(a.action_type, 'LOCK_DOOR')
    assert.equal(a.error?.type, 'device_offline')
  })

  it('an unknown device: 404; no device_id: invalid_input', async () => {
    for (const route of ['lock_door', 'unlock_door']) {
      assertError(
        await call(srv, `/locks/${route}`, { token: AK, body: { device_id: 'no_such_lock' } }),
        404,
        'device_not_found',
      )
      assertInvalidInput(await call(srv, `/locks/${route}`, { token: AK, body: {} }), 'device_id')
    }
  })

  it('GET is not a method of lock_door / unlock_door (405)', async () => {
    for (const route of ['lock_door', 'unlock_door']) {
      assertError(
        await call(srv, `/locks/${route}`, { method: 'GET', token: AK, query: { device_id: 'august_device_1' } }),
        405,
      )
    }
  })
})

describe('outside the scope', () => {
  it('unlocking a device outside the token scope is 404 and changes nothing', async () => {
    const before = await getDevice('schlage_device_id')
    const attemptsBefore = await listAttempts({ device_id: 'schlage_device_id' })
    for (const route of ['unlock_door', 'lock_door']) {
      assertError(
        await call(srv, `/locks/${route}`, { token: SEED.cst1, body: { device_id: 'schlage_device_id' } }),
        404,
        'device_not_found',
      )
      assertError(
        await call(srv, `/locks/${route}`, {
          token: SEED.cst1,
          body: { device_id: 'schlage_device_id', sync: true },
        }),
        404,
        'device_not_found',
      )
      assertError(
        await call(srv, `/locks/${route}`, { token: SEED.apiKey2, body: { device_id: 'schlage_device_id' } }),
        404,
        'device_not_found',
      )
    }
    await sdkRejects(sdkFromToken(srv, SEED.cst1).locks.unlockDoor({ device_id: 'schlage_device_id' }), 404)
    await sleep(DELAY_MS * 2)
    assert.deepEqual(await getDevice('schlage_device_id'), before)
    assert.deepEqual(await listAttempts({ device_id: 'schlage_device_id' }), attemptsBefore)
  })

  it("another session's action attempt is 404 for a token and for another workspace", async () => {
    const { ws, devices } = await janeLocks('august')
    const a = await act('unlock_door', devices[0].device_id, ws.apiKey, { sync: true })
    assertError(await attemptRaw(a.action_attempt_id, SEED.cst1), 404, 'action_attempt_not_found')
    assertError(await attemptRaw(a.action_attempt_id, AK), 404, 'action_attempt_not_found')
    assert.equal((await attempt(a.action_attempt_id, ws.apiKey)).status, 'success')
  })
})

describe('action_attempts/get and list', () => {
  it('get: GET and POST, unknown is 404 action_attempt_not_found', async () => {
    const { ws, devices } = await janeLocks('schlage')
    const a = await act('unlock_door', devices[0].device_id, ws.apiKey, { sync: true })
    const res = await call(srv, '/action_attempts/get', {
      token: ws.apiKey,
      body: { action_attempt_id: a.action_attempt_id },
    })
    const out = assertOk(res, 'action_attempt')
    assertResponseMatchesSchema('/action_attempts/get', out)
    assert.deepEqual(out.action_attempt, a)
    assertError(await attemptRaw('00000000-0000-4000-8000-000000000000', ws.apiKey), 404, 'action_attempt_not_found')
    assertError(await call(srv, '/action_attempts/get', { method: 'GET', token: ws.apiKey }), 400, 'invalid_input')
  })

  it('list: by action_attempt_ids and by device_id; API key only', async () => {
    const { ws, devices } = await janeLocks('yale')
    const [d1, d2] = devices
    const a1 = await act('unlock_door', d1.device_id, ws.apiKey, { sync: true })
    const a2 = await act('lock_door', d1.device_id, ws.apiKey, { sync: true })
    const a3 = await act('unlock_door', d2.device_id, ws.apiKey, { sync: true })
    const byIds = async (query) =>
      assertOk(await call(srv, '/action_attempts/list', { method: 'GET', token: ws.apiKey, query }))
        .action_attempts.map((a) => a.action_attempt_id)
        .sort()
    assert.deepEqual(
      await byIds({ action_attempt_ids: [a1.action_attempt_id, a3.action_attempt_id] }),
      [a1.action_attempt_id, a3.action_attempt_id].sort(),
    )
    assert.deepEqual(
      await byIds({ device_id: d1.device_id }),
      [a1.action_attempt_id, a2.action_attempt_id].sort(),
    )
    const all = await listAttempts({ device_id: d2.device_id }, ws.apiKey)
    assert.deepEqual(all, [a3])
    const viaSdk = await sdkFromApiKey(srv, ws.apiKey).actionAttempts.list({
      action_attempt_ids: [a2.action_attempt_id],
    })
    assert.deepEqual(
      viaSdk.map((a) => a.action_attempt_id),
      [a2.action_attempt_id],
    )
    // Another workspace lists none of them.
    const other = assertOk(
      await call(srv, '/action_attempts/list', {
        method: 'GET',
        token: AK,
        query: { action_attempt_ids: [a1.action_attempt_id, a2.action_attempt_id, a3.action_attempt_id] },
      }),
    ).action_attempts
    assert.deepEqual(other, [])
    // A token may not list.
    assertError(
      await call(srv, '/action_attempts/list', {
        method: 'GET',
        token: SEED.cst1,
        query: { action_attempt_ids: [a1.action_attempt_id] },
      }),
      403,
    )
  })
})

describe('action_attempts/list pagination', () => {
  it('limit and page_cursor walk every attempt of a device once', async () => {
    const { ws, devices } = await janeLocks('august')
    const made = []
    for (const route of ['unlock_door', 'lock_door', 'unlock_door']) {
      made.push((await act(route, devices[0].device_id, ws.apiKey, { sync: true })).action_attempt_id)
    }
    const seen = []
    let cursor
    for (let hops = 0; hops < 10; hops++) {
      const out = assertOk(
        await call(srv, '/action_attempts/list', {
          method: 'GET',
          token: ws.apiKey,
          query: { device_id: devices[0].device_id, limit: 2, ...(cursor ? { page_cursor: cursor } : {}) },
        }),
      )
      assertResponseMatchesSchema('/action_attempts/list', out, 'get')
      assert.ok(out.action_attempts.length <= 2)
      seen.push(...out.action_attempts.map((a) => a.action_attempt_id))
      if (!out.pagination.has_next_page) break
      cursor = out.pagination.next_page_cursor
    }
    assert.deepEqual([...seen].sort(), [...made].sort())
    assert.equal(new Set(seen).size, seen.length)
  })
})

describe('pending attempts survive a restart', () => {
  it('an unlock pending when the server stops completes after it starts again', async () => {
    const dataDir = makeDataDir()
    let first
    let second
    try {
      first = await startServer({ dataDir, seed: true, args: ['--action-delay-ms', '3000'] })
      const { connected_account_id } = await connectAccount(first, SEED.apiKey1, {
        provider: 'nuki',
        username: LOGINS.john,
      })
      const devices = assertOk(
        await call(first, '/devices/list', { method: 'GET', token: SEED.apiKey1, query: { connected_account_id } }),
      ).devices
      const lock = devices.find((d) => d.properties.locked === true)
      assert.ok(lock, 'a locked lock to unlock')
      const pending = await act('unlock_door', lock.device_id, SEED.apiKey1, {}, first)
      assert.equal(pending.status, 'pending')
      await sleep(200)
      assert.equal((await attempt(pending.action_attempt_id, SEED.apiKey1, first)).status, 'pending')
      await first.stop()
      first = null

      second = await startServer({ dataDir, seed: true })
      const done = await settled(pending.action_attempt_id, SEED.apiKey1, second)
      assert.equal(done.status, 'success')
      assert.equal(done.action_type, 'UNLOCK_DOOR')
      assert.equal((await getDevice(lock.device_id, SEED.apiKey1, second)).properties.locked, false)
      // The lock is still the same device with the same account after the restart.
      assert.equal((await getDevice(lock.device_id, SEED.apiKey1, second)).connected_account_id, connected_account_id)
    } finally {
      await first?.stop().catch(() => {})
      await second?.stop()
      removeDir(dataDir)
    }
  })
})
