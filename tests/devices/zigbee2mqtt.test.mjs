// The zigbee2mqtt provider against a real Mosquitto broker (with a login)
// and the device simulator's Zigbee2MQTT bridge (tools/devsim): connecting
// through the webview (a wrong password fails cleanly), the bridge's locks
// as devices, unlock and lock through the SDK with a client session token,
// a lock operated by hand, offline and back, a command the device ignores
// (timeout) or cannot finish (jam), devices added to and removed from the
// bridge, the broker restarted mid-run (the account recovers, a command
// sent meanwhile runs once), scope, and no broker password in the
// database, the API or the logs.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import net from 'node:net'
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
import { openWebview, postWebview, waitFor } from '../api/webview_flow.mjs'
import { startBroker, startDevsim } from '../lib/devsim.mjs'
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

const PASSWORD = `broker-${randomUUID()}`
const TIMEOUT_MS = 8000 // room for a broker restart and the reconnects after it
// One server for the file, started before the simulator's setup needs it.
let srv

let broker
let sim
let userA // client session of the user who connects the bridge
let userB // another user of the same workspace
let account
let deviceByName // name -> device_id

before(async () => {
  srv = await startServer({ args: ['--command-timeout-ms', String(TIMEOUT_MS)] })
  broker = await startBroker({ user: 'latchkey', password: PASSWORD })
  sim = await startDevsim({
    mqtt: broker.url,
    mqttUsername: 'latchkey',
    mqttPassword: PASSWORD,
    zigbeeLocks: 3,
    latencyMs: 50,
  })
  userA = await createSession(srv, SEED.apiKey1, {}, { label: 'z2m_a' })
  userB = await createSession(srv, SEED.apiKey1, {}, { label: 'z2m_b' })
})

after(() =>
  stopAll(
    () => srv?.stop(),
    () => sim?.stop(),
    () => broker?.stop(),
  ),
)

const form = (extra = {}) => ({
  broker: broker.url,
  username: 'latchkey',
  password: PASSWORD,
  base_topic: 'zigbee2mqtt',
  ...extra,
})

const seamA = () => sdkFromToken(srv, userA.token)

async function deviceOf(name) {
  return seamA().devices.get({ device_id: deviceByName[name] })
}

const simLock = async (name) => (await sim.control.state()).zigbee[name]

async function eventsOf(deviceId, eventType) {
  return seamA().events.list({ device_id: deviceId, event_type: eventType, since: '2020-01-01T00:00:00Z' })
}

describe('zigbee2mqtt: connecting through the webview', () => {
  it('asks for the broker, login and base topic; a wrong password fails cleanly', async () => {
    const created = assertOk(
      await call(srv, '/connect_webviews/create', {
        token: userA.token,
        body: { accepted_providers: ['zigbee2mqtt'] },
      }),
      'connect_webview',
    ).connect_webview
    const wrong = await submitLiveForm(created.url, 'zigbee2mqtt', form({ password: 'not-it' }))
    assert.deepEqual(
      formFields(wrong).filter((n) => n !== 'provider'),
      ['broker', 'username', 'password', 'base_topic'],
    )
    assert.match(formError(wrong), /refused the username or password/)
    assert.ok(!wrong.html.includes('not-it'), 'the password typed is not sent back')
    const closed = await submitLiveForm(created.url, 'zigbee2mqtt', form({ broker: 'mqtt://127.0.0.1:1' }))
    assert.match(formError(closed), /broker/)
    const bad = await submitLiveForm(created.url, 'zigbee2mqtt', form({ broker: 'http://x' }))
    assert.match(formError(bad), /mqtt:\/\/host/)
    const after_ = assertOk(
      await call(srv, '/connect_webviews/get', {
        token: userA.token,
        body: { connect_webview_id: created.connect_webview_id },
      }),
      'connect_webview',
    ).connect_webview
    assert.equal(after_.status, 'pending')
  })

  it('answers at once with a page that refreshes itself while connecting', async () => {
    // A "broker" that accepts the connection and never says a word.
    const silent = net.createServer(() => {})
    await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const created = assertOk(
        await call(srv, '/connect_webviews/create', {
          token: userA.token,
          body: { accepted_providers: ['zigbee2mqtt'] },
        }),
        'connect_webview',
      ).connect_webview
      const posted = await postWebview(created.url, {
        provider: 'zigbee2mqtt',
        action: 'login',
        ...form({ broker: `mqtt://127.0.0.1:${silent.address().port}` }),
      })
      assert.equal(posted.status, 303)
      const connecting = await openWebview(new URL(posted.location, created.url).toString())
      assert.equal(connecting.status, 200)
      assert.equal(connecting.heading, 'Connecting to Zigbee2MQTT…')
      assert.match(connecting.html, /<meta http-equiv="refresh" content="1">/)
      assert.ok(!/<script/i.test(connecting.html), 'no JavaScript needed')
      const ended = await submitLiveForm(created.url, 'zigbee2mqtt', {}, { resubmit: false })
      assert.match(formError(ended), /No answer in time|cannot be reached|lost/)
    } finally {
      silent.close()
    }
  })

  it('a webview offers live providers only when the app names them', async () => {
    const created = assertOk(
      await call(srv, '/connect_webviews/create', { token: userA.token, body: {} }),
      'connect_webview',
    ).connect_webview
    assert.ok(!created.accepted_providers.includes('zigbee2mqtt'), created.accepted_providers.join())
    const page = await postWebview(created.url, { provider: 'zigbee2mqtt', action: 'login', ...form() })
    assert.equal(page.status, 400)
  })

  it('connects with the right login; the bridge locks become devices', async () => {
    account = await connectLive(srv, userA.token, 'zigbee2mqtt', form())
    const state = await sim.control.state()
    const names = Object.keys(state.zigbee).sort()
    assert.equal(names.length, 3)
    const devices = await waitFor(
      async () => {
        const list = await seamA().devices.list()
        const mine = list.filter((d) => d.connected_account_id === account.connected_account_id)
        return mine.length === 3 && mine.every((d) => d.properties.locked !== undefined) && mine
      },
      { what: 'three locks with their state' },
    )
    deviceByName = Object.fromEntries(devices.map((d) => [d.properties.name, d.device_id]))
    assert.deepEqual(Object.keys(deviceByName).sort(), names)
    for (const d of devices) {
      const s = state.zigbee[d.properties.name]
      // Seam's lock type of the lock's vendor (the simulator has Yale and Schlage locks)
      assert.ok(['yale_lock', 'schlage_lock'].includes(d.device_type), d.device_type)
      assert.equal(`${d.properties.manufacturer}_lock`, d.device_type)
      assert.equal(d.properties.online, true)
      assert.equal(d.properties.locked, s.locked)
      assert.ok(Math.abs(d.properties.battery_level - s.battery / 100) < 1e-9)
      assert.equal(d.can_remotely_unlock, true)
      assert.deepEqual(d.errors, [])
    }
    const raw = assertOk(await call(srv, '/devices/list', { token: userA.token, body: {} }), 'devices')
    assertResponseMatchesSchema('/devices/list', raw)
    const acct = await sdkFromApiKey(srv, SEED.apiKey1).connectedAccounts.get({
      connected_account_id: account.connected_account_id,
    })
    assert.equal(acct.account_type, 'zigbee2mqtt')
    assert.deepEqual(acct.errors, [])
    assert.equal(acct.user_identifier.api_url, `${broker.url}/zigbee2mqtt`)
  })
})

describe('zigbee2mqtt: commands and what happens at the door', () => {
  it('unlocks and locks through the SDK with a client session token', async () => {
    const name = 'front_door'
    const before_ = (await simLock(name)).commands.length
    const unlocked = await seamA().locks.unlockDoor({ device_id: deviceByName[name] })
    assert.equal(unlocked.status, 'success')
    assert.equal((await simLock(name)).locked, false)
    assert.equal((await deviceOf(name)).properties.locked, false)
    const locked = await seamA().locks.lockDoor({ device_id: deviceByName[name] })
    assert.equal(locked.status, 'success')
    const s = await simLock(name)
    assert.equal(s.locked, true)
    assert.deepEqual(
      s.commands.slice(before_).map((c) => c.state),
      ['UNLOCK', 'LOCK'],
    )
    const events = await eventsOf(deviceByName[name], 'lock.unlocked')
    assert.ok(events.some((e) => e.method === 'remote' && e.action_attempt_id === unlocked.action_attempt_id))
  })

  it('a lock operated by hand updates the device and records how', async () => {
    const name = 'back_door'
    await sim.control.zigbee(name, 'operate', { locked: false, method: 'keypad' })
    await waitFor(async () => (await deviceOf(name)).properties.locked === false, { what: 'unlocked by hand' })
    await sim.control.zigbee(name, 'operate', { locked: true, method: 'manual' })
    await waitFor(async () => (await deviceOf(name)).properties.locked === true, { what: 'locked by hand' })
    const unlockedEvents = await eventsOf(deviceByName[name], 'lock.unlocked')
    assert.ok(unlockedEvents.some((e) => e.method === 'keycode' && !e.action_attempt_id))
    const lockedEvents = await eventsOf(deviceByName[name], 'lock.locked')
    assert.ok(lockedEvents.some((e) => e.method === 'manual'))
  })

  it('offline and back online', async () => {
    await offlineAndBack(seamA(), deviceByName.garage_door, (online) =>
      sim.control.zigbee('garage_door', 'online', { online }),
    )
  })

  it('an unmanaged device is kept current, with its own connection events and no lock events', async () => {
    const name = 'garage_door'
    const id = deviceByName[name]
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const count = async (type) => (await eventsOf(id, type)).length
    const unlockedBefore = await count('lock.unlocked')
    await seam.devices.update({ device_id: id, is_managed: false })
    const unmanaged = () => seamA().devices.unmanaged.get({ device_id: id })
    await sim.control.zigbee(name, 'operate', { locked: false, method: 'keypad' })
    await sim.control.zigbee(name, 'online', { online: false })
    await waitFor(async () => !(await unmanaged()).properties.online, { what: 'offline while unmanaged' })
    await sim.control.zigbee(name, 'online', { online: true })
    await waitFor(async () => (await unmanaged()).properties.online, { what: 'online while unmanaged' })
    assert.equal(await count('device.unmanaged.disconnected'), 1)
    assert.equal(await count('device.unmanaged.connected'), 1)
    assert.equal(await count('lock.unlocked'), unlockedBefore)
    const raw = await call(srv, '/events/list', {
      token: userA.token,
      body: { device_id: id, since: '2020-01-01T00:00:00Z' },
    })
    assertResponseMatchesSchema('/events/list', raw.body)
    await seam.devices.unmanaged.update({ device_id: id, is_managed: true })
    const managed = await deviceOf(name)
    assert.equal(managed.properties.locked, false, 'unlocked at the door while unmanaged')
    assert.equal(managed.properties.online, true)
    await sim.control.zigbee(name, 'operate', { locked: true, method: 'manual' })
    await waitFor(async () => (await deviceOf(name)).properties.locked === true, { what: 'locked again' })
  })

  it('a command the device ignores fails after the timeout; a jam fails', async () => {
    const name = 'front_door'
    await sim.control.zigbee(name, 'mode', { mode: 'ignore' })
    const started = Date.now()
    await failsWith(seamA().locks.unlockDoor({ device_id: deviceByName[name] }), 'device_timeout')
    assert.ok(Date.now() - started >= TIMEOUT_MS - 100, 'not before the timeout')
    await sim.control.zigbee(name, 'mode', { mode: 'jam' })
    await failsWith(seamA().locks.unlockDoor({ device_id: deviceByName[name] }), 'device_jammed')
    await sim.control.zigbee(name, 'mode', { mode: 'normal' })
    const ok = await seamA().locks.unlockDoor({ device_id: deviceByName[name] })
    assert.equal(ok.status, 'success')
  })

  it('devices added to and removed from the bridge appear and go', async () => {
    await sim.control.zigbee('add', '', { name: 'side_gate' })
    const added = await waitFor(
      async () => (await seamA().devices.list()).find((d) => d.properties.name === 'side_gate'),
      { what: 'the new lock' },
    )
    assert.ok((await eventsOf(added.device_id, 'device.connected')).length === 1)
    await sim.control.zigbee('side_gate', 'remove', {})
    await waitFor(
      async () => !(await seamA().devices.list()).some((d) => d.properties.name === 'side_gate'),
      { what: 'the lock gone' },
    )
    const removed = await seamA().events.list({
      event_type: 'device.removed',
      since: '2020-01-01T00:00:00Z',
    })
    assert.ok(removed.some((e) => e.device_id === added.device_id))
  })

  it('the broker restarted: the account recovers and a command sent meanwhile runs once', async () => {
    const name = 'back_door'
    const sent = (await simLock(name)).commands.length
    await broker.restart()
    const unlocked = await seamA().locks.unlockDoor({ device_id: deviceByName[name] })
    assert.equal(unlocked.status, 'success')
    await waitFor(async () => (await simLock(name)).locked === false, { what: 'the simulator unlocked' })
    const s = await simLock(name)
    assert.deepEqual(s.commands.slice(sent).map((c) => c.state), ['UNLOCK'])
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const acct = await waitFor(
      async () => {
        const a = await seam.connectedAccounts.get({ connected_account_id: account.connected_account_id })
        return a.errors.length === 0 && a
      },
      { what: 'the account without errors' },
    )
    assert.deepEqual(acct.errors, [])
    const types = (
      await seam.events.list({ connected_account_id: account.connected_account_id, since: '2020-01-01T00:00:00Z' })
    ).map((e) => e.event_type)
    assert.ok(types.includes('connected_account.disconnected'), types.join())
    assert.ok(types.filter((t) => t === 'connected_account.connected').length >= 2, types.join())
  })
})

describe('zigbee2mqtt: scope and secrets', () => {
  it('another user or another workspace never sees or moves these devices', async () => {
    await assertOutOfReach(srv, userB.token, deviceByName.front_door, account.connected_account_id)
    assert.equal((await simLock('front_door')).locked, false, 'nothing moved it')
  })

  it('the broker password is not in the database, the API or the logs', async () => {
    await assertNowhere(srv, [PASSWORD])
  })
})
