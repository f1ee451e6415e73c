// The home_assistant provider against the device simulator's Home-Assistant-
// like server (REST + WebSocket API, tools/devsim): connecting through the
// webview (a wrong token fails cleanly), lock.* entities as devices, unlock
// and lock through the SDK with a client session token, a lock operated by
// hand, offline and back, a command the lock ignores (timeout) or cannot
// finish (jam), the token revoked (an account error, events) and given
// back, scope, and the token nowhere in the database, the API or the logs.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'

import {
  SEED,
  assertOk,
  assertResponseMatchesSchema,
  call,
  createSession,
  sdkFromApiKey,
  sdkFromToken,
  startServer,
  stopAll,
} from '../api/harness.mjs'
import { waitFor } from '../api/webview_flow.mjs'
import { startDevsim } from '../lib/devsim.mjs'
import {
  assertNowhere,
  assertOutOfReach,
  connectLive,
  failsWith,
  formError,
  formFields,
  offlineAndBack,
  submitLiveForm,
} from './live_flow.mjs'

const TOKEN = `ha-token-${randomUUID()}`
const TIMEOUT_MS = 4000
// One server for the file, started before the simulator's setup needs it.
let srv

let sim, userA, userB, account
let deviceByEntity // entity_id -> device_id

before(async () => {
  srv = await startServer({ args: ['--command-timeout-ms', String(TIMEOUT_MS)] })
  sim = await startDevsim({ haPort: 0, haToken: TOKEN, haLocks: 3, latencyMs: 50 })
  userA = await createSession(srv, SEED.apiKey1, {}, { label: 'ha_a' })
  userB = await createSession(srv, SEED.apiKey1, {}, { label: 'ha_b' })
})

after(() =>
  stopAll(
    () => srv?.stop(),
    () => sim?.stop(),
  ),
)

const seamA = () => sdkFromToken(srv, userA.token)
const simLock = async (entity) => (await sim.control.state()).ha[entity]
const deviceOf = (entity) => seamA().devices.get({ device_id: deviceByEntity[entity] })
const eventsOf = (deviceId, eventType) =>
  seamA().events.list({ device_id: deviceId, event_type: eventType, since: '2020-01-01T00:00:00Z' })

describe('home_assistant: connecting through the webview', () => {
  it('asks for the address and an access token; a wrong token fails cleanly', async () => {
    const created = assertOk(
      await call(srv, '/connect_webviews/create', {
        token: userA.token,
        body: { accepted_providers: ['home_assistant'] },
      }),
      'connect_webview',
    ).connect_webview
    const wrong = await submitLiveForm(created.url, 'home_assistant', { url: sim.info.ha, token: 'nope' })
    assert.deepEqual(formFields(wrong).filter((n) => n !== 'provider'), ['url', 'token'])
    assert.match(formError(wrong), /refused the access token/)
    const bad = await submitLiveForm(created.url, 'home_assistant', { url: 'mqtt://x', token: TOKEN })
    assert.ok(formError(bad), 'an address that is not http(s) is refused')
    assert.ok(!bad.html.includes(TOKEN), 'the token typed is not sent back')
  })

  it('connects with the right token; every lock.* entity becomes a device', async () => {
    account = await connectLive(srv, userA.token, 'home_assistant', { url: sim.info.ha, token: TOKEN })
    const state = await sim.control.state()
    const entities = Object.keys(state.ha).sort()
    const devices = await waitFor(
      async () => {
        const mine = (await seamA().devices.list()).filter(
          (d) => d.connected_account_id === account.connected_account_id,
        )
        return mine.length === entities.length && mine.every((d) => d.properties.locked !== undefined) && mine
      },
      { what: 'the locks with their state' },
    )
    assert.equal(devices.length, 3)
    const byName = Object.fromEntries(Object.entries(state.ha).map(([id, e]) => [e.name ?? id, id]))
    deviceByEntity = {}
    for (const d of devices) {
      const entity = Object.keys(state.ha).find((id) => byName[d.properties.name] === id) ??
        entities.find((id) => d.properties.name.toLowerCase().replace(/ /g, '_') === id.slice(5))
      assert.ok(entity, `an entity for ${d.properties.name}`)
      deviceByEntity[entity] = d.device_id
      assert.equal(d.device_type, 'smartthings_lock')
      assert.equal(d.properties.locked, state.ha[entity].locked)
      assert.equal(d.properties.online, true)
      assert.deepEqual(d.errors, [])
    }
    const raw = assertOk(await call(srv, '/devices/list', { token: userA.token, body: {} }), 'devices')
    assertResponseMatchesSchema('/devices/list', raw)
  })
})

describe('home_assistant: commands and what happens at the door', () => {
  it('unlocks and locks through the SDK with a client session token', async () => {
    const entity = 'lock.front_door'
    assert.equal((await seamA().locks.unlockDoor({ device_id: deviceByEntity[entity] })).status, 'success')
    assert.equal((await simLock(entity)).locked, false)
    assert.equal((await deviceOf(entity)).properties.locked, false)
    assert.equal((await seamA().locks.lockDoor({ device_id: deviceByEntity[entity] })).status, 'success')
    assert.equal((await simLock(entity)).locked, true)
    const services = (await simLock(entity)).commands.map((c) => c.service)
    assert.deepEqual(services.slice(-2), ['unlock', 'lock'])
  })

  it('a lock operated by hand updates the device and records how', async () => {
    const entity = 'lock.back_door'
    await sim.control.ha(entity, 'operate', { locked: false, method: 'keypad' })
    await waitFor(async () => (await deviceOf(entity)).properties.locked === false, { what: 'unlocked by hand' })
    const events = await eventsOf(deviceByEntity[entity], 'lock.unlocked')
    assert.ok(events.some((e) => e.method === 'keycode' && !e.action_attempt_id), JSON.stringify(events))
  })

  it('offline and back online', async () => {
    await offlineAndBack(seamA(), deviceByEntity['lock.side_gate'], (online) =>
      sim.control.ha('lock.side_gate', 'online', { online }),
    )
  })

  it('a command the lock ignores fails after the timeout; a jam or a refusal fails', async () => {
    const entity = 'lock.front_door'
    try {
      await sim.control.ha(entity, 'mode', { mode: 'ignore' })
      await failsWith(seamA().locks.unlockDoor({ device_id: deviceByEntity[entity] }), 'device_timeout')
      await sim.control.ha(entity, 'mode', { mode: 'jam' })
      await failsWith(seamA().locks.unlockDoor({ device_id: deviceByEntity[entity] }), 'device_jammed')
      await sim.control.ha(entity, 'mode', { mode: 'refuse' })
      await assert.rejects(seamA().locks.lockDoor({ device_id: deviceByEntity[entity] }), (err) => {
        assert.equal(err.code, 'device_command_refused')
        assert.match(err.message, /Home Assistant refused to lock it: .*motor fault/)
        return true
      })
    } finally {
      await sim.control.ha(entity, 'mode', { mode: 'normal' })
    }
  })

  it('a revoked token turns into an account error; the account recovers when it is valid again', async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const get = () => seam.connectedAccounts.get({ connected_account_id: account.connected_account_id })
    await sim.control.haToken(`other-${randomUUID()}`)
    const broken = await waitFor(
      async () => {
        const a = await get()
        return /refused the access token/.test(a.errors[0]?.message ?? '') && a
      },
      { what: 'the account error', ms: 15_000 },
    )
    assert.equal(broken.errors[0].error_code, 'account_disconnected')
    const types = (
      await seam.events.list({ connected_account_id: account.connected_account_id, since: '2020-01-01T00:00:00Z' })
    ).map((e) => e.event_type)
    assert.ok(types.includes('connected_account.disconnected'), types.join())
    // A new token is a new login: connecting again updates the account's settings.
    const fresh = `ha-token-${randomUUID()}`
    await sim.control.haToken(fresh)
    const again = await connectLive(srv, userA.token, 'home_assistant', { url: sim.info.ha, token: fresh })
    assert.equal(again.connected_account_id, account.connected_account_id, 'the same account')
    await waitFor(async () => (await get()).errors.length === 0, { what: 'no error', ms: 15_000 })
    assert.equal((await seamA().locks.unlockDoor({ device_id: deviceByEntity['lock.front_door'] })).status, 'success')
  })
})

describe('home_assistant: scope and secrets', () => {
  it('another user or another workspace never sees or moves these devices', async () => {
    await assertOutOfReach(srv, userB.token, deviceByEntity['lock.front_door'], account.connected_account_id)
    assert.equal((await simLock('lock.front_door')).locked, false, 'nothing moved it')
  })

  it('the access token is not in the database, the API or the logs', async () => {
    await assertNowhere(srv, [TOKEN, (await sim.control.state()).ha_token])
  })
})
