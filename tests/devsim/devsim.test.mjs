// The device simulator (tools/devsim/devsim.mjs) speaks the protocols
// latchkey's lock providers use: Zigbee2MQTT's MQTT API on a real Mosquitto
// broker (scripts/mqtt-test-broker), read with mqtt.js, and Home Assistant's
// REST and WebSocket APIs, read with fetch and ws.
//   node --test tests/devsim/devsim.test.mjs
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import mqtt from 'mqtt'
import WebSocket from 'ws'

import { startBroker, startDevsim } from '../lib/devsim.mjs'

/** How long any expected message may take. */
const WAIT_MS = 10_000
/** How long a device that must not answer is given to answer anyway. */
const SILENCE_MS = 500

const USER = 'latchkey'
const PASSWORD = 'pa ss:word'

/**
 * Messages as they arrive, from mqtt.js or a WebSocket: next(pred) resolves
 * the first message matching pred that arrived after mark() (or after the
 * watcher was made), waiting up to `timeout` ms for it.
 */
class Watcher {
  constructor(label) {
    this.label = label
    this.messages = []
    this.waiters = new Set()
    this.from = 0
  }

  push(message) {
    this.messages.push(message)
    for (const w of [...this.waiters]) {
      if (w.pred(message)) {
        this.waiters.delete(w)
        clearTimeout(w.timer)
        w.resolve(message)
      }
    }
  }

  /** Messages before now are not looked at by next() any more. */
  mark() {
    this.from = this.messages.length
  }

  next(pred, { timeout = WAIT_MS, what = 'a message' } = {}) {
    const seen = this.messages.slice(this.from).find(pred)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const w = { pred, resolve }
      w.timer = setTimeout(() => {
        this.waiters.delete(w)
        const recent = this.messages.slice(-10).map((m) => JSON.stringify(m.json ?? m.text ?? m).slice(0, 300))
        reject(new Error(`${this.label}: no ${what} within ${timeout} ms; last messages:\n${recent.join('\n')}`))
      }, timeout)
      this.waiters.add(w)
    })
  }

  /** Resolves once no message matching pred arrived for ms (after mark()). */
  async none(pred, ms = SILENCE_MS, what = 'message') {
    const got = await this.next(pred, { timeout: ms }).catch(() => null)
    assert.equal(got, null, `${this.label}: unexpected ${what}: ${JSON.stringify(got?.json ?? got?.text ?? got)}`)
  }
}

// ---- MQTT ----

/** An mqtt.js client of the broker that records what it receives. */
async function mqttWatcher(broker, topics, { username = USER, password = PASSWORD } = {}) {
  // MQTT 5, subscribing with retain-as-published: the retain flag of what
  // arrives says how devsim published it, even when it arrives live.
  const client = mqtt.connect(broker.url, { username, password, reconnectPeriod: 0, connectTimeout: WAIT_MS, protocolVersion: 5 })
  const w = new Watcher(`mqtt ${topics}`)
  client.on('message', (topic, payload, packet) => {
    const text = payload.toString('utf8')
    let json
    try {
      json = JSON.parse(text)
    } catch {}
    w.push({ topic, text, json, retain: packet.retain })
  })
  await new Promise((resolve, reject) => {
    client.once('connect', resolve)
    client.once('error', reject)
  })
  w.client = client
  w.publish = (topic, message) =>
    new Promise((resolve, reject) =>
      client.publish(topic, typeof message === 'string' ? message : JSON.stringify(message), { qos: 1 }, (err) =>
        err ? reject(err) : resolve(),
      ),
    )
  w.subscribe = (t) =>
    new Promise((resolve, reject) => client.subscribe(t, { qos: 1, rap: true }, (err) => (err ? reject(err) : resolve())))
  w.close = () => new Promise((resolve) => client.end(true, {}, resolve))
  await w.subscribe(topics)
  return w
}

/** Polls devsim's control state until pred holds; resolves that state. */
async function controlUntil(sim, pred, what) {
  const deadline = Date.now() + WAIT_MS
  let st
  while (Date.now() < deadline) {
    st = await sim.control.state()
    if (pred(st)) return st
    await new Promise((r) => setTimeout(r, 20))
  }
  assert.fail(`devsim: no ${what} within ${WAIT_MS} ms; state ${JSON.stringify(st)}`)
}

const isLock = (device) =>
  device.definition?.exposes?.some((e) => e.type === 'lock' && e.features.some((f) => f.property === 'state'))

describe('Zigbee2MQTT bridge', () => {
  let broker
  let sim
  let w
  const watchers = []
  const B = 'zigbee2mqtt'

  const watch = async (...args) => {
    const x = await mqttWatcher(...args)
    watchers.push(x)
    return x
  }

  before(async () => {
    broker = await startBroker({ user: USER, password: PASSWORD })
    sim = await startDevsim({ mqtt: broker.url, mqttUsername: USER, mqttPassword: PASSWORD, latencyMs: 50 })
    w = await watch(broker, `${B}/#`)
  })

  after(async () => {
    for (const x of watchers) await x.close().catch(() => {})
    await sim?.stop()
    await broker?.stop()
  })

  it('announces itself: ready line, bridge/state online', async () => {
    assert.equal(sim.info.ready, true)
    assert.equal(sim.info.mqtt, broker.url)
    assert.equal(sim.info.base_topic, B)
    assert.equal(sim.info.ha, null)
    assert.match(sim.info.control, /^http:\/\/127\.0\.0\.1:\d+$/)
    const state = await w.next((m) => m.topic === `${B}/bridge/state`)
    assert.deepEqual(state.json, { state: 'online' })
    assert.equal(state.retain, true)
    const info = await w.next((m) => m.topic === `${B}/bridge/info`)
    assert.match(info.json.version, /^1\./)
  })

  it('lists the locks and a non-lock in bridge/devices', async () => {
    const msg = await w.next((m) => m.topic === `${B}/bridge/devices`)
    assert.equal(msg.retain, true)
    const devices = msg.json
    assert.ok(Array.isArray(devices))
    const coordinator = devices.find((d) => d.type === 'Coordinator')
    assert.equal(coordinator.friendly_name, 'Coordinator')
    assert.equal(coordinator.network_address, 0)
    assert.equal(coordinator.definition, null)
    const locks = devices.filter(isLock)
    assert.deepEqual(
      locks.map((d) => d.friendly_name),
      ['front_door', 'back_door', 'garage_door'],
    )
    for (const d of locks) {
      assert.match(d.ieee_address, /^0x[0-9a-f]{16}$/)
      assert.equal(d.type, 'EndDevice')
      assert.equal(d.supported, true)
      assert.equal(d.disabled, false)
      assert.equal(d.interview_completed, true)
      assert.equal(d.power_source, 'Battery')
      const lock = d.definition.exposes.find((e) => e.type === 'lock')
      const state = lock.features.find((f) => f.property === 'state')
      assert.equal(state.value_on, 'LOCK')
      assert.equal(state.value_off, 'UNLOCK')
      assert.equal(state.access, 7)
      assert.deepEqual(lock.features.find((f) => f.property === 'lock_state').values, ['not_fully_locked', 'locked', 'unlocked'])
      assert.ok(d.definition.exposes.some((e) => e.property === 'battery'))
    }
    assert.equal(locks[0].ieee_address, '0x00158d0001a2b3c1')
    assert.equal(locks[0].definition.model, 'YRD426NRSC')
    assert.equal(locks[0].definition.vendor, 'Yale')
    const others = devices.filter((d) => d.type !== 'Coordinator' && !isLock(d))
    assert.equal(others.length, 1)
    assert.ok(others[0].supported)
    assert.ok(others[0].definition.exposes.some((e) => e.property === 'temperature'))
    assert.ok(!others[0].definition.exposes.some((e) => e.type === 'lock'))
  })

  it('publishes each lock state and availability, retained', async () => {
    const batteries = new Set()
    for (const name of ['front_door', 'back_door', 'garage_door']) {
      const s = await w.next((m) => m.topic === `${B}/${name}`)
      assert.equal(s.retain, true)
      assert.equal(s.json.state, 'LOCK')
      assert.equal(s.json.lock_state, 'locked')
      assert.ok(Number.isInteger(s.json.battery))
      assert.ok(Number.isInteger(s.json.linkquality))
      batteries.add(s.json.battery)
      const a = await w.next((m) => m.topic === `${B}/${name}/availability`)
      assert.equal(a.retain, true)
      assert.deepEqual(a.json, { state: 'online' })
    }
    assert.equal(batteries.size, 3)
  })

  it('unlocks and locks on <name>/set, case-insensitively', async () => {
    w.mark()
    await w.publish(`${B}/front_door/set`, { state: 'UNLOCK' })
    const unlocked = await w.next((m) => m.topic === `${B}/front_door` && m.json?.lock_state === 'unlocked', { what: 'unlocked state' })
    assert.equal(unlocked.json.state, 'UNLOCK')
    w.mark()
    await w.publish(`${B}/front_door/set`, { state: 'lock' })
    const locked = await w.next((m) => m.topic === `${B}/front_door` && m.json?.lock_state === 'locked', { what: 'locked state' })
    assert.equal(locked.json.state, 'LOCK')
    const st = await sim.control.state()
    assert.deepEqual(
      st.zigbee.front_door.commands.map((c) => [c.state, c.result]),
      [
        ['UNLOCK', 'done'],
        ['LOCK', 'done'],
      ],
    )
    assert.ok(!Number.isNaN(Date.parse(st.zigbee.front_door.commands[0].at)))
    assert.equal(st.zigbee.front_door.locked, true)
  })

  it('answers <name>/get by publishing the state again', async () => {
    w.mark()
    await w.publish(`${B}/back_door/get`, { state: '' })
    const s = await w.next((m) => m.topic === `${B}/back_door`)
    assert.equal(s.json.lock_state, 'locked')
  })

  it('ignores commands in mode ignore, but records them', async () => {
    await sim.control.zigbee('back_door', 'mode', { mode: 'ignore' })
    try {
      w.mark()
      const before = (await sim.control.state()).zigbee.back_door.commands.length
      await w.publish(`${B}/back_door/set`, { state: 'UNLOCK' })
      // devsim got it (a PUBACK is only the broker's) ...
      const st = await controlUntil(sim, (x) => x.zigbee.back_door.commands.length === before + 1, 'command recorded')
      assert.equal(st.zigbee.back_door.mode, 'ignore')
      assert.deepEqual(st.zigbee.back_door.commands.at(-1).state, 'UNLOCK')
      assert.deepEqual(st.zigbee.back_door.commands.at(-1).result, 'ignored')
      // ... and does not answer.
      await w.none((m) => m.topic === `${B}/back_door`, SILENCE_MS, 'state of an ignoring lock')
      assert.equal((await sim.control.state()).zigbee.back_door.locked, true)
    } finally {
      await sim.control.zigbee('back_door', 'mode', { mode: 'normal' })
    }
  })

  it('jams in mode jam: lock_state not_fully_locked', async () => {
    await sim.control.zigbee('garage_door', 'mode', { mode: 'jam' })
    try {
      w.mark()
      await w.publish(`${B}/garage_door/set`, { state: 'UNLOCK' })
      const s = await w.next((m) => m.topic === `${B}/garage_door` && m.json?.lock_state === 'not_fully_locked', { what: 'jammed state' })
      // As zigbee-herdsman-converters maps lockState 0: not LOCK.
      assert.equal(s.json.state, 'UNLOCK')
      assert.equal((await sim.control.state()).zigbee.garage_door.lock_state, 'not_fully_locked')
    } finally {
      await sim.control.zigbee('garage_door', 'mode', { mode: 'normal' })
    }
    w.mark()
    await w.publish(`${B}/garage_door/set`, { state: 'LOCK' })
    await w.next((m) => m.topic === `${B}/garage_door` && m.json?.lock_state === 'locked', { what: 'locked state' })
  })

  it('reports a hand operation with its action and source', async () => {
    w.mark()
    assert.deepEqual(await sim.control.zigbee('front_door', 'operate', { locked: false, method: 'keypad', user: 3 }), { ok: true, published: true })
    const k = await w.next((m) => m.topic === `${B}/front_door` && m.json?.action !== undefined)
    assert.equal(k.json.state, 'UNLOCK')
    assert.equal(k.json.lock_state, 'unlocked')
    assert.equal(k.json.action, 'unlock')
    assert.equal(k.json.action_source_name, 'keypad')
    assert.equal(k.json.action_source, 0)
    assert.equal(k.json.action_user, 3)
    w.mark()
    await sim.control.zigbee('front_door', 'operate', { locked: true, method: 'manual' })
    const m = await w.next((x) => x.topic === `${B}/front_door` && x.json?.action !== undefined)
    assert.equal(m.json.lock_state, 'locked')
    assert.equal(m.json.action, 'manual_lock')
    assert.equal(m.json.action_source_name, 'manual')
    await assert.rejects(sim.control.zigbee('front_door', 'operate', { locked: false, method: 'telepathy' }), { status: 400 })
    await assert.rejects(sim.control.zigbee('front_door', 'operate', {}), { status: 400 })
    await assert.rejects(sim.control.zigbee('no_such_lock', 'operate', { locked: true }), { status: 404 })
  })

  it('goes offline and online: availability, commands unanswered while offline', async () => {
    w.mark()
    await sim.control.zigbee('back_door', 'online', { online: false })
    const off = await w.next((m) => m.topic === `${B}/back_door/availability`)
    assert.deepEqual(off.json, { state: 'offline' })
    assert.equal(off.retain, true)
    w.mark()
    const before = (await sim.control.state()).zigbee.back_door.commands.length
    await w.publish(`${B}/back_door/set`, { state: 'UNLOCK' })
    const st = await controlUntil(sim, (x) => x.zigbee.back_door.commands.length === before + 1, 'command recorded')
    assert.equal(st.zigbee.back_door.online, false)
    assert.equal(st.zigbee.back_door.commands.at(-1).result, 'offline')
    await w.none((m) => m.topic === `${B}/back_door`, SILENCE_MS, 'state of an offline lock')
    // Turned by hand while offline: known once it is back.
    assert.deepEqual(await sim.control.zigbee('back_door', 'operate', { locked: false }), { ok: true, published: false })
    w.mark()
    await sim.control.zigbee('back_door', 'online', { online: true })
    const on = await w.next((m) => m.topic === `${B}/back_door/availability`)
    assert.deepEqual(on.json, { state: 'online' })
    const s = await w.next((m) => m.topic === `${B}/back_door`)
    assert.equal(s.json.lock_state, 'unlocked')
  })

  it('publishes a new battery level', async () => {
    w.mark()
    await sim.control.zigbee('garage_door', 'battery', { battery: 9 })
    const s = await w.next((m) => m.topic === `${B}/garage_door` && m.json?.battery === 9)
    assert.equal(s.json.lock_state, 'locked')
  })

  it('adds a device: device_joined, device_interview, bridge/devices, state', async () => {
    w.mark()
    const added = await sim.control.zigbee('add', undefined, { name: 'shed_door' })
    assert.equal(added.ok, true)
    const joined = await w.next((m) => m.topic === `${B}/bridge/event` && m.json?.type === 'device_joined')
    assert.deepEqual(joined.json.data, { friendly_name: 'shed_door', ieee_address: added.ieee_address })
    const interview = await w.next(
      (m) => m.topic === `${B}/bridge/event` && m.json?.type === 'device_interview' && m.json.data.status === 'successful',
    )
    assert.equal(interview.json.data.friendly_name, 'shed_door')
    assert.equal(interview.json.data.supported, true)
    assert.ok(interview.json.data.definition.exposes.some((e) => e.type === 'lock'))
    const devices = await w.next((m) => m.topic === `${B}/bridge/devices` && m.json.some((d) => d.friendly_name === 'shed_door'))
    assert.ok(isLock(devices.json.find((d) => d.friendly_name === 'shed_door')))
    const s = await w.next((m) => m.topic === `${B}/shed_door`)
    assert.equal(s.json.lock_state, 'locked')
    await w.next((m) => m.topic === `${B}/shed_door/availability` && m.json?.state === 'online')
    await assert.rejects(sim.control.zigbee('add', undefined, { name: 'shed_door' }), { status: 409 })
    // It takes commands like the others.
    w.mark()
    await w.publish(`${B}/shed_door/set`, { state: 'UNLOCK' })
    await w.next((m) => m.topic === `${B}/shed_door` && m.json?.lock_state === 'unlocked')
  })

  it('removes a device: device_leave, bridge/devices, retained topics cleared', async () => {
    w.mark()
    await sim.control.zigbee('shed_door', 'remove')
    const cleared = await w.next((m) => m.topic === `${B}/shed_door` && m.text === '')
    assert.equal(cleared.retain, true)
    await w.next((m) => m.topic === `${B}/shed_door/availability` && m.text === '')
    await w.next((m) => m.topic === `${B}/bridge/devices` && !m.json.some((d) => d.friendly_name === 'shed_door'))
    const leave = await w.next((m) => m.topic === `${B}/bridge/event` && m.json?.type === 'device_leave')
    assert.equal(leave.json.data.friendly_name, 'shed_door')
    assert.match(leave.json.data.ieee_address, /^0x[0-9a-f]{16}$/)
    assert.equal((await sim.control.state()).zigbee.shed_door, undefined)
    await assert.rejects(sim.control.zigbee('shed_door', 'mode', { mode: 'jam' }), { status: 404 })

    // A new subscriber gets no retained message for it: it gets the retained
    // bridge/state, subscribed after, so the broker went past shed_door's.
    const fresh = await watch(broker, [`${B}/shed_door`, `${B}/shed_door/availability`])
    await fresh.subscribe(`${B}/bridge/state`)
    await fresh.next((m) => m.topic === `${B}/bridge/state`)
    assert.deepEqual(
      fresh.messages.filter((m) => m.topic.startsWith(`${B}/shed_door`)),
      [],
    )
  })

  it('publishes everything again after the broker restarted (no persistence)', async () => {
    await w.close()
    await broker.restart()
    // Nothing retained survives the restart itself; devsim reconnects (every
    // 500 ms) and publishes again: a new subscriber sees it all.
    const fresh = await watch(broker, `${B}/#`)
    const devices = await fresh.next((m) => m.topic === `${B}/bridge/devices`, { timeout: 2 * WAIT_MS })
    assert.equal(devices.json.filter(isLock).length, 3)
    assert.equal(devices.retain, true)
    const state = await fresh.next((m) => m.topic === `${B}/bridge/state`)
    assert.deepEqual(state.json, { state: 'online' })
    // The state as it was before the restart.
    const back = await fresh.next((m) => m.topic === `${B}/back_door`)
    assert.equal(back.json.lock_state, 'unlocked')
    await fresh.next((m) => m.topic === `${B}/garage_door` && m.json?.battery === 9)
    // And it listens for commands again.
    fresh.mark()
    await fresh.publish(`${B}/back_door/set`, { state: 'LOCK' })
    await fresh.next((m) => m.topic === `${B}/back_door` && m.json?.lock_state === 'locked')
    assert.equal((await sim.control.state()).mqtt_connected, true)
    w = fresh
  })

  it('says bridge/state offline when it stops', async () => {
    const other = await startDevsim({ mqtt: broker.url, mqttUsername: USER, mqttPassword: PASSWORD, baseTopic: 'other/z2m', zigbeeLocks: 1 })
    try {
      const x = await watch(broker, 'other/z2m/bridge/state')
      await x.next((m) => m.json?.state === 'online')
      x.mark()
      assert.equal(await other.stop(), 0)
      const off = await x.next((m) => m.json?.state === 'offline')
      assert.equal(off.retain, true)
    } finally {
      await other.stop()
    }
  })

  it('publishes plain online/offline with --legacy-availability', async () => {
    const other = await startDevsim({ mqtt: broker.url, mqttUsername: USER, mqttPassword: PASSWORD, baseTopic: 'legacy', zigbeeLocks: 1, legacyAvailability: true })
    try {
      const x = await watch(broker, 'legacy/#')
      assert.equal((await x.next((m) => m.topic === 'legacy/bridge/state')).text, 'online')
      assert.equal((await x.next((m) => m.topic === 'legacy/front_door/availability')).text, 'online')
    } finally {
      await other.stop()
    }
  })

  it('fails to start with a wrong MQTT password', async () => {
    await assert.rejects(
      startDevsim({ mqtt: broker.url, mqttUsername: USER, mqttPassword: 'wrong', baseTopic: 'nope' }),
      /exited \(1\) before it was ready/,
    )
  })
})

// ---- Home Assistant ----

/** A WebSocket client of /api/websocket recording what it receives. */
async function wsWatcher(sim, { auth = sim.info.ha_token } = {}) {
  const ws = new WebSocket(`${sim.info.ha.replace(/^http/, 'ws')}/api/websocket`)
  const w = new Watcher('ha websocket')
  w.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)))
  ws.on('message', (data) => w.push(JSON.parse(data.toString())))
  ws.on('error', () => {})
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  let id = 0
  w.ws = ws
  w.send = (msg) => ws.send(JSON.stringify(msg))
  /** Sends a command with the next id; resolves its result message. */
  w.command = async (msg) => {
    const mine = ++id
    w.send({ id: mine, ...msg })
    return w.next((m) => m.id === mine && (m.type === 'result' || m.type === 'pong'), { what: `answer to ${msg.type}` })
  }
  w.close = () => ws.close()
  const required = await w.next((m) => m.type === 'auth_required')
  assert.equal(required.ha_version, '2024.6.0')
  if (auth !== null) {
    w.send({ type: 'auth', access_token: auth })
    w.auth = await w.next((m) => m.type === 'auth_ok' || m.type === 'auth_invalid')
  }
  return w
}

describe('Home Assistant API', () => {
  let sim
  let api
  const TOKEN = 'test-token-1'
  const sockets = []

  const ws = async (opts) => {
    const w = await wsWatcher(sim, opts)
    sockets.push(w)
    return w
  }

  before(async () => {
    sim = await startDevsim({ haPort: 0, haToken: TOKEN, latencyMs: 50 })
    api = async (method, route, { body, token = sim.info.ha_token } = {}) => {
      const res = await fetch(`${sim.info.ha}${route}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await res.text()
      let json
      try {
        json = JSON.parse(text)
      } catch {}
      return { status: res.status, text, json }
    }
  })

  after(async () => {
    for (const s of sockets) s.close()
    await sim?.stop()
  })

  /** Polls GET /api/states/<id> until pred holds (the REST side has no events). */
  async function stateUntil(id, pred, what) {
    const deadline = Date.now() + WAIT_MS
    let last
    while (Date.now() < deadline) {
      last = (await api('GET', `/api/states/${id}`)).json
      if (pred(last)) return last
      await new Promise((r) => setTimeout(r, 20))
    }
    assert.fail(`${id}: no ${what} within ${WAIT_MS} ms; last ${JSON.stringify(last)}`)
  }

  it('announces itself in the ready line', () => {
    assert.match(sim.info.ha, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(sim.info.ha_token, TOKEN)
    assert.equal(sim.info.mqtt, null)
  })

  it('answers 401 without a valid bearer token', async () => {
    for (const token of [null, 'wrong']) {
      for (const route of ['/api/', '/api/states', '/api/states/lock.front_door']) {
        const r = await api('GET', route, { token })
        assert.equal(r.status, 401, `${route} with ${token}`)
        assert.equal(r.text, '401: Unauthorized')
      }
      const r = await api('POST', '/api/services/lock/unlock', { token, body: { entity_id: 'lock.front_door' } })
      assert.equal(r.status, 401)
    }
    assert.equal((await sim.control.state()).ha['lock.front_door'].commands.length, 0)
  })

  it('serves /api/, /api/config and the states', async () => {
    assert.deepEqual((await api('GET', '/api/')).json, { message: 'API running.' })
    const config = (await api('GET', '/api/config')).json
    assert.equal(config.version, '2024.6.0')
    assert.equal(typeof config.location_name, 'string')
    assert.equal(config.unit_system.temperature, '°C')
    const states = (await api('GET', '/api/states')).json
    const ids = states.map((s) => s.entity_id)
    assert.deepEqual(ids.filter((id) => id.startsWith('lock.')), ['lock.front_door', 'lock.back_door', 'lock.side_gate'])
    assert.ok(ids.includes('sensor.hallway_temperature'))
    const front = states.find((s) => s.entity_id === 'lock.front_door')
    assert.equal(front.state, 'locked')
    assert.equal(front.attributes.friendly_name, 'Front door')
    assert.equal(front.attributes.supported_features, 0)
    assert.ok(Number.isInteger(front.attributes.battery_level))
    for (const key of ['last_changed', 'last_updated', 'last_reported']) {
      assert.match(front[key], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/)
    }
    assert.match(front.context.id, /^[0-9A-HJKMNP-TV-Z]{26}$/)
    assert.equal(front.context.parent_id, null)
    const one = await api('GET', '/api/states/lock.back_door')
    assert.equal(one.status, 200)
    assert.equal(one.json.state, 'locked')
    const none = await api('GET', '/api/states/lock.no_such')
    assert.equal(none.status, 404)
    assert.deepEqual(none.json, { message: 'Entity not found.' })
  })

  it('unlocks and locks through POST /api/services/lock/<service>', async () => {
    const r = await api('POST', '/api/services/lock/unlock', { body: { entity_id: 'lock.front_door' } })
    assert.equal(r.status, 200)
    assert.ok(Array.isArray(r.json))
    assert.equal(r.json.length, 1)
    assert.equal(r.json[0].entity_id, 'lock.front_door')
    assert.equal(r.json[0].state, 'unlocking')
    const done = await stateUntil('lock.front_door', (s) => s.state === 'unlocked', 'unlocked')
    assert.equal(done.context.id, r.json[0].context.id)
    assert.equal(typeof done.context.user_id, 'string')
    await api('POST', '/api/services/lock/lock', { body: { entity_id: ['lock.front_door'] } })
    await stateUntil('lock.front_door', (s) => s.state === 'locked', 'locked')
    const st = await sim.control.state()
    assert.deepEqual(
      st.ha['lock.front_door'].commands.map((c) => [c.service, c.result]),
      [
        ['unlock', 'done'],
        ['lock', 'done'],
      ],
    )
    const bad = await api('POST', '/api/services/lock/fly', { body: { entity_id: 'lock.front_door' } })
    assert.equal(bad.status, 400)
    const missing = await api('POST', '/api/services/lock/unlock', { body: { entity_id: 'lock.no_such' } })
    assert.deepEqual([missing.status, missing.json], [200, []])
  })

  it('jams in mode jam, does nothing in mode ignore, nothing when unavailable', async () => {
    await sim.control.ha('lock.back_door', 'mode', { mode: 'jam' })
    try {
      await api('POST', '/api/services/lock/unlock', { body: { entity_id: 'lock.back_door' } })
      await stateUntil('lock.back_door', (s) => s.state === 'jammed', 'jammed')
    } finally {
      await sim.control.ha('lock.back_door', 'mode', { mode: 'normal' })
      await sim.control.ha('lock.back_door', 'operate', { locked: true, method: 'key' })
    }

    const events = await ws()
    assert.equal((await events.command({ type: 'subscribe_events', event_type: 'state_changed' })).success, true)
    await sim.control.ha('lock.side_gate', 'mode', { mode: 'ignore' })
    try {
      events.mark()
      const r = await api('POST', '/api/services/lock/unlock', { body: { entity_id: 'lock.side_gate' } })
      assert.deepEqual(r.json, [])
      assert.equal((await sim.control.state()).ha['lock.side_gate'].commands.at(-1).result, 'ignored')
      await events.none((m) => m.type === 'event' && m.event.data.entity_id === 'lock.side_gate', SILENCE_MS, 'state_changed of an ignoring lock')
      assert.equal((await api('GET', '/api/states/lock.side_gate')).json.state, 'locked')
    } finally {
      await sim.control.ha('lock.side_gate', 'mode', { mode: 'normal' })
    }

    events.mark()
    await sim.control.ha('lock.side_gate', 'online', { online: false })
    const gone = await events.next((m) => m.type === 'event' && m.event.data.entity_id === 'lock.side_gate')
    assert.equal(gone.event.data.new_state.state, 'unavailable')
    assert.equal(gone.event.data.old_state.state, 'locked')
    events.mark()
    const r2 = await api('POST', '/api/services/lock/unlock', { body: { entity_id: 'lock.side_gate' } })
    assert.deepEqual(r2.json, [])
    await events.none((m) => m.type === 'event' && m.event.data.entity_id === 'lock.side_gate', SILENCE_MS, 'state_changed of an unavailable lock')
    events.mark()
    await sim.control.ha('lock.side_gate', 'online', { online: true })
    const back = await events.next((m) => m.type === 'event' && m.event.data.entity_id === 'lock.side_gate')
    assert.equal(back.event.data.new_state.state, 'locked')
  })

  it('WebSocket: auth_ok with the token, auth_invalid and close without it', async () => {
    const good = await ws()
    assert.deepEqual(good.auth, { type: 'auth_ok', ha_version: '2024.6.0' })
    const bad = await ws({ auth: 'wrong' })
    assert.deepEqual(bad.auth, { type: 'auth_invalid', message: 'Invalid access token or password' })
    await bad.closed
  })

  it('WebSocket: get_states, ping, unknown commands, id_reuse', async () => {
    const c = await ws()
    const states = await c.command({ type: 'get_states' })
    assert.equal(states.success, true)
    assert.ok(states.result.some((s) => s.entity_id === 'lock.front_door'))
    assert.ok(states.result.some((s) => s.entity_id === 'sensor.hallway_temperature'))
    const pong = await c.command({ type: 'ping' })
    assert.equal(pong.type, 'pong')
    const unknown = await c.command({ type: 'frobnicate' })
    assert.deepEqual(unknown.error, { code: 'unknown_command', message: 'Unknown command.' })
    assert.equal(unknown.success, false)
    c.mark()
    c.send({ id: 1, type: 'ping' })
    const reuse = await c.next((m) => m.id === 1 && m.type === 'result')
    assert.equal(reuse.error.code, 'id_reuse')
  })

  it('WebSocket: call_service, then state_changed events with its context', async () => {
    const c = await ws()
    const sub = await c.command({ type: 'subscribe_events', event_type: 'state_changed' })
    assert.deepEqual([sub.type, sub.success, sub.result], ['result', true, null])
    c.mark()
    const res = await c.command({ type: 'call_service', domain: 'lock', service: 'unlock', target: { entity_id: 'lock.front_door' } })
    assert.equal(res.success, true)
    const ctx = res.result.context
    assert.match(ctx.id, /^[0-9A-HJKMNP-TV-Z]{26}$/)
    const isFront = (m) => m.type === 'event' && m.id === sub.id && m.event.data.entity_id === 'lock.front_door'
    const unlocking = await c.next((m) => isFront(m) && m.event.data.new_state.state === 'unlocking')
    assert.equal(unlocking.event.event_type, 'state_changed')
    assert.equal(unlocking.event.origin, 'LOCAL')
    assert.match(unlocking.event.time_fired, /\+00:00$/)
    assert.equal(unlocking.event.data.old_state.state, 'locked')
    assert.equal(unlocking.event.context.id, ctx.id)
    const unlocked = await c.next((m) => isFront(m) && m.event.data.new_state.state === 'unlocked')
    assert.equal(unlocked.event.data.old_state.state, 'unlocking')
    assert.equal(unlocked.event.data.new_state.context.id, ctx.id)
    assert.equal(unlocked.event.data.new_state.attributes.changed_by, undefined)

    // service_data works too; an unknown service is not_found.
    c.mark()
    const res2 = await c.command({ type: 'call_service', domain: 'lock', service: 'lock', service_data: { entity_id: 'lock.front_door' } })
    assert.equal(res2.success, true)
    await c.next((m) => isFront(m) && m.event.data.new_state.state === 'locked')
    const nf = await c.command({ type: 'call_service', domain: 'lock', service: 'fly', target: { entity_id: 'lock.front_door' } })
    assert.equal(nf.success, false)
    assert.equal(nf.error.code, 'not_found')
  })

  it('WebSocket: a hand operation is a state_changed with changed_by and no user', async () => {
    const c = await ws()
    const sub = await c.command({ type: 'subscribe_events' }) // every event type
    c.mark()
    await sim.control.ha('lock.front_door', 'operate', { locked: false, method: 'keypad' })
    const ev = await c.next((m) => m.type === 'event' && m.id === sub.id && m.event.event_type === 'state_changed')
    assert.equal(ev.event.data.entity_id, 'lock.front_door')
    assert.equal(ev.event.data.new_state.state, 'unlocked')
    assert.equal(ev.event.data.new_state.attributes.changed_by, 'keypad')
    assert.equal(ev.event.data.new_state.context.user_id, null)
    assert.equal(ev.event.context.user_id, null)
    c.mark()
    await sim.control.ha('lock.front_door', 'operate', { locked: true, method: 'manual' })
    const ev2 = await c.next((m) => m.type === 'event' && m.event.event_type === 'state_changed')
    assert.equal(ev2.event.data.new_state.state, 'locked')
    assert.equal(ev2.event.data.new_state.attributes.changed_by, 'manual')
    assert.equal((await api('GET', '/api/states/lock.front_door')).json.attributes.changed_by, 'manual')
  })

  it('adds and removes entities with state_changed events', async () => {
    const c = await ws()
    await c.command({ type: 'subscribe_events', event_type: 'state_changed' })
    c.mark()
    await sim.control.ha('add', undefined, { entity_id: 'lock.shed' })
    const added = await c.next((m) => m.type === 'event' && m.event.data.entity_id === 'lock.shed')
    assert.equal(added.event.data.old_state, null)
    assert.equal(added.event.data.new_state.state, 'locked')
    assert.equal(added.event.data.new_state.attributes.friendly_name, 'Shed')
    c.mark()
    await sim.control.ha('lock.shed', 'remove')
    const removed = await c.next((m) => m.type === 'event' && m.event.data.entity_id === 'lock.shed')
    assert.equal(removed.event.data.new_state, null)
    assert.equal((await api('GET', '/api/states/lock.shed')).status, 404)
  })

  it('revoking the token closes its WebSockets and 401s REST', async () => {
    const a = await ws()
    const b = await ws()
    await a.command({ type: 'subscribe_events', event_type: 'state_changed' })
    const old = sim.info.ha_token
    const r = await sim.control.haToken('test-token-2')
    assert.deepEqual(r, { ok: true, token: 'test-token-2' })
    await Promise.all([a.closed, b.closed])
    assert.equal((await api('GET', '/api/states', { token: old })).status, 401)
    assert.equal((await api('GET', '/api/states', { token: 'test-token-2' })).status, 200)
    const bad = await ws({ auth: old })
    assert.equal(bad.auth.type, 'auth_invalid')
    const good = await ws({ auth: 'test-token-2' })
    assert.equal(good.auth.type, 'auth_ok')
    assert.equal((await sim.control.state()).ha_token, 'test-token-2')
  })
})
