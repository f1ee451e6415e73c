#!/usr/bin/env node
// devsim: simulated smart locks for latchkey's tests and demos, reached the
// way latchkey reaches real ones (see README.md beside this file):
//   - a Zigbee2MQTT-like bridge on an MQTT broker (--mqtt): Zigbee2MQTT 1.x's
//     MQTT API (bridge/state, bridge/info, bridge/devices, bridge/event,
//     <name>, <name>/availability, <name>/set, <name>/get);
//   - a Home-Assistant-like server (--ha-port): HA's REST API (/api/...) and
//     WebSocket API (/api/websocket) for lock.* entities;
//   - a control API (--control-port, plain HTTP + JSON) through which a test
//     operates the locks by hand, takes them offline, makes them ignore or
//     jam on commands, adds and removes them, and reads what they were sent.
//
// Once ready it prints one line of JSON on stdout, then logs on stderr only;
// it runs until SIGTERM or SIGINT and then exits 0.
//
//   node tools/devsim/devsim.mjs [--mqtt URL] [--mqtt-username U] [--mqtt-password P]
//     [--base-topic zigbee2mqtt] [--legacy-availability] [--ha-port N] [--ha-token T]
//     [--control-port N] [--zigbee-locks 3] [--ha-locks 3] [--latency-ms 100]
import crypto from 'node:crypto'
import http from 'node:http'
import { parseArgs } from 'node:util'

import mqtt from 'mqtt'
import { WebSocketServer } from 'ws'

// ---- options ----

const USAGE = `usage: node tools/devsim/devsim.mjs [--mqtt URL] [--mqtt-username U] [--mqtt-password P]
  [--base-topic zigbee2mqtt] [--legacy-availability] [--ha-port N] [--ha-token T]
  [--control-port N] [--zigbee-locks N] [--ha-locks N] [--latency-ms N]`

function die(message) {
  process.stderr.write(`devsim: ${message}\n`)
  process.exit(2)
}

let parsed
try {
  parsed = parseArgs({
    options: {
      mqtt: { type: 'string' },
      'mqtt-username': { type: 'string' },
      'mqtt-password': { type: 'string' },
      'base-topic': { type: 'string', default: 'zigbee2mqtt' },
      'legacy-availability': { type: 'boolean', default: false },
      'ha-port': { type: 'string' },
      'ha-token': { type: 'string' },
      'control-port': { type: 'string', default: '0' },
      'zigbee-locks': { type: 'string', default: '3' },
      'ha-locks': { type: 'string', default: '3' },
      'latency-ms': { type: 'string', default: '100' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }).values
} catch (err) {
  die(`${err.message}\n${USAGE}`)
}
if (parsed.help) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}

function intOption(name, min, max) {
  const text = parsed[name]
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    die(`--${name} ${text}: a whole number from ${min} to ${max}`)
  }
  return Number(text)
}

const OPT = {
  mqtt: parsed.mqtt,
  mqttUsername: parsed['mqtt-username'],
  mqttPassword: parsed['mqtt-password'],
  base: parsed['base-topic'].replace(/\/+$/, ''),
  legacyAvailability: parsed['legacy-availability'],
  haPort: intOption('ha-port', 0, 65535),
  controlPort: intOption('control-port', 0, 65535),
  zigbeeLocks: intOption('zigbee-locks', 0, 200),
  haLocks: intOption('ha-locks', 0, 200),
  latencyMs: intOption('latency-ms', 0, 600_000),
}
if (!OPT.base || /[+#]/.test(OPT.base)) die(`--base-topic ${OPT.base}: a topic without wildcards`)
if (OPT.mqtt !== undefined && !/^(mqtts?|tcp|ssl|wss?):\/\//.test(OPT.mqtt)) die(`--mqtt ${OPT.mqtt}: an mqtt:// URL`)
let haToken = parsed['ha-token'] ?? `devsim_${crypto.randomBytes(24).toString('hex')}`
if (!haToken) die('--ha-token: not empty')

function log(message) {
  process.stderr.write(`${new Date().toISOString()} devsim: ${message}\n`)
}

// ---- helpers ----

/** JSON with the keys of every object sorted, as Zigbee2MQTT writes it. */
function stable(value) {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable(value[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

const timers = new Set()
/** setTimeout that shutdown() cancels. */
function later(ms, fn) {
  const t = setTimeout(() => {
    timers.delete(t)
    fn()
  }, ms)
  timers.add(t)
  return t
}

const nowIso = () => new Date().toISOString()

/** "Front door" for front_door. */
const humanName = (slug) => {
  const words = slug.replace(/[_-]+/g, ' ').trim()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

// ---- the Zigbee2MQTT-like bridge ----

const Z2M_VERSION = '1.40.2'
const ZB_NAMES = ['front_door', 'back_door', 'garage_door', 'side_gate', 'patio_door', 'cellar_door', 'shed_door', 'office_door']
const ZB_BATTERY = [87, 64, 42, 93, 71, 55, 99, 30]
const ZB_LQI = [120, 96, 150, 78, 132, 60, 111, 144]
const COORDINATOR_IEEE = '0x00124b0023a5f6e1'
const SENSOR = { name: 'hallway_sensor', ieee: '0x00158d00045e7f01', nwk: 0x3e21 }

const LOCK_DEFINITIONS = [
  { model: 'YRD426NRSC', vendor: 'Yale', description: 'Assure lock', model_id: 'YRD426 TSDB', manufacturer: 'Yale' },
  { model: 'BE468', vendor: 'Schlage', description: 'Connect smart deadbolt', model_id: 'BE468', manufacturer: 'Schlage' },
  { model: 'YRD256HA20BP', vendor: 'Yale', description: 'Assure lock SL', model_id: 'YRD256 TSDB', manufacturer: 'Yale' },
]

// The `action` values and `action_source_name`s of zigbee-herdsman-converters'
// lock_operation_event (ZCL OperationEventCode, lockSourceName).
const LOCK_ACTIONS = [
  'unknown', 'lock', 'unlock', 'lock_failure_invalid_pin_or_id', 'lock_failure_invalid_schedule',
  'unlock_failure_invalid_pin_or_id', 'unlock_failure_invalid_schedule', 'one_touch_lock', 'key_lock',
  'key_unlock', 'auto_lock', 'schedule_lock', 'schedule_unlock', 'manual_lock', 'manual_unlock',
  'non_access_user_operational_event',
]
const LOCK_SOURCE_NAMES = ['keypad', 'rf', 'manual', 'rfid', 'fingerprint']

/**
 * How a lock may be operated by hand (the control API's `method`): the
 * operation event a real lock sends for it, as Zigbee2MQTT publishes it.
 * action(locked) is null where the method cannot do that (auto unlock).
 */
const ZB_METHODS = {
  manual: { source: 2, user: 0, action: (l) => (l ? 'manual_lock' : 'manual_unlock') },
  keypad: { source: 0, user: 1, action: (l) => (l ? 'lock' : 'unlock') },
  rfid: { source: 3, user: 2, action: (l) => (l ? 'lock' : 'unlock') },
  rf: { source: 1, user: 0, action: (l) => (l ? 'lock' : 'unlock') },
  fingerprint: { source: 4, user: 3, action: (l) => (l ? 'lock' : 'unlock') },
  key: { source: 2, user: 0, action: (l) => (l ? 'key_lock' : 'key_unlock') },
  auto: { source: 2, user: 0, action: (l) => (l ? 'auto_lock' : null) },
  one_touch: { source: 0, user: 0, action: (l) => (l ? 'one_touch_lock' : null) },
}
const HAND_METHODS = Object.keys(ZB_METHODS)

const LOCK_EXPOSES = [
  {
    type: 'lock',
    features: [
      {
        type: 'binary',
        name: 'state',
        label: 'State',
        property: 'state',
        access: 7,
        value_on: 'LOCK',
        value_off: 'UNLOCK',
        description: 'State of the lock',
      },
      {
        type: 'enum',
        name: 'lock_state',
        label: 'Lock state',
        property: 'lock_state',
        access: 1,
        values: ['not_fully_locked', 'locked', 'unlocked'],
        description: 'Actual state of the lock',
      },
    ],
  },
  {
    type: 'numeric',
    name: 'battery',
    label: 'Battery',
    property: 'battery',
    access: 1,
    unit: '%',
    value_min: 0,
    value_max: 100,
    description: 'Remaining battery in %',
    category: 'diagnostic',
  },
  {
    type: 'enum',
    name: 'action',
    label: 'Action',
    property: 'action',
    access: 1,
    values: LOCK_ACTIONS,
    description: 'Triggered action on the lock',
  },
  {
    type: 'enum',
    name: 'action_source_name',
    label: 'Action source name',
    property: 'action_source_name',
    access: 1,
    values: LOCK_SOURCE_NAMES,
    description: 'Source of the triggered action on the lock',
  },
  {
    type: 'numeric',
    name: 'action_user',
    label: 'Action user',
    property: 'action_user',
    access: 1,
    description: 'ID of user that triggered the action on the lock',
  },
  {
    type: 'numeric',
    name: 'linkquality',
    label: 'Linkquality',
    property: 'linkquality',
    access: 1,
    unit: 'lqi',
    value_min: 0,
    value_max: 255,
    description: 'Link quality (signal strength)',
    category: 'diagnostic',
  },
]

const SENSOR_DEFINITION = {
  model: 'WSDCGQ11LM',
  vendor: 'Aqara',
  description: 'Temperature, humidity and pressure sensor',
  supports_ota: false,
  exposes: [
    { type: 'numeric', name: 'temperature', label: 'Temperature', property: 'temperature', access: 1, unit: '°C', description: 'Measured temperature value' },
    { type: 'numeric', name: 'humidity', label: 'Humidity', property: 'humidity', access: 1, unit: '%', description: 'Measured relative humidity' },
    { type: 'numeric', name: 'pressure', label: 'Pressure', property: 'pressure', access: 1, unit: 'hPa', description: 'The measured atmospheric pressure' },
    { type: 'numeric', name: 'battery', label: 'Battery', property: 'battery', access: 1, unit: '%', value_min: 0, value_max: 100, description: 'Remaining battery in %', category: 'diagnostic' },
    { type: 'numeric', name: 'linkquality', label: 'Linkquality', property: 'linkquality', access: 1, unit: 'lqi', value_min: 0, value_max: 255, description: 'Link quality (signal strength)', category: 'diagnostic' },
  ],
  options: [],
}

let nextZbIndex = 0
/** name -> lock; insertion order is the order of bridge/devices. */
const zbLocks = new Map()

function newZbLock(name, { battery } = {}) {
  const i = nextZbIndex++
  const def = LOCK_DEFINITIONS[i % LOCK_DEFINITIONS.length]
  return {
    name,
    ieee: `0x${(0x00158d0001a2b3c1n + BigInt(i)).toString(16).padStart(16, '0')}`,
    nwk: (0x1a2b + i * 0x1111) % 0xfff0,
    def,
    locked: true,
    jammed: false,
    online: true,
    mode: 'normal',
    battery: battery ?? ZB_BATTERY[i % ZB_BATTERY.length],
    linkquality: ZB_LQI[i % ZB_LQI.length],
    commands: [],
  }
}

for (let i = 0; i < OPT.zigbeeLocks; i++) {
  const name = ZB_NAMES[i] ?? `lock_${i + 1}`
  zbLocks.set(name, newZbLock(name))
}

function zbEndpoints(input, output) {
  return { 1: { bindings: [], clusters: { input, output }, configured_reportings: [], scenes: [] } }
}

function zbDeviceEntry(lock) {
  return {
    ieee_address: lock.ieee,
    type: 'EndDevice',
    network_address: lock.nwk,
    supported: true,
    friendly_name: lock.name,
    disabled: false,
    description: null,
    definition: {
      model: lock.def.model,
      vendor: lock.def.vendor,
      description: lock.def.description,
      supports_ota: false,
      exposes: LOCK_EXPOSES,
      options: [],
    },
    power_source: 'Battery',
    software_build_id: '1.12',
    date_code: '20200101',
    model_id: lock.def.model_id,
    interviewing: false,
    interview_completed: true,
    manufacturer: lock.def.manufacturer,
    endpoints: zbEndpoints(['genBasic', 'genPowerCfg', 'closuresDoorLock', 'genPollCtrl'], ['genOta', 'genTime']),
  }
}

function zbDevicesPayload() {
  const coordinator = {
    ieee_address: COORDINATOR_IEEE,
    type: 'Coordinator',
    network_address: 0,
    supported: false,
    friendly_name: 'Coordinator',
    disabled: false,
    description: null,
    definition: null,
    power_source: null,
    software_build_id: null,
    date_code: null,
    model_id: null,
    interviewing: false,
    interview_completed: true,
    manufacturer: null,
    endpoints: zbEndpoints([], []),
  }
  const sensor = {
    ieee_address: SENSOR.ieee,
    type: 'EndDevice',
    network_address: SENSOR.nwk,
    supported: true,
    friendly_name: SENSOR.name,
    disabled: false,
    description: null,
    definition: SENSOR_DEFINITION,
    power_source: 'Battery',
    software_build_id: '3000-0001',
    date_code: '20161129',
    model_id: 'lumi.weather',
    interviewing: false,
    interview_completed: true,
    manufacturer: 'LUMI',
    endpoints: zbEndpoints(['genBasic', 'msTemperatureMeasurement', 'msRelativeHumidity', 'msPressureMeasurement'], []),
  }
  return [coordinator, ...[...zbLocks.values()].map(zbDeviceEntry), sensor]
}

function zbLockState(lock) {
  return {
    state: lock.locked && !lock.jammed ? 'LOCK' : 'UNLOCK',
    lock_state: lock.jammed ? 'not_fully_locked' : lock.locked ? 'locked' : 'unlocked',
    battery: lock.battery,
    linkquality: lock.linkquality,
  }
}

function zbAvailability(online) {
  const state = online ? 'online' : 'offline'
  return OPT.legacyAvailability ? state : stable({ state })
}

let mqttClient = null
let mqttEverConnected = false

/** Publishes on <base>/<topic>; resolves once the broker has it (QoS 1) or at once when not connected. */
function zbPublish(topic, payload, { retain = false } = {}) {
  if (!mqttClient) return Promise.resolve()
  const full = `${OPT.base}/${topic}`
  return new Promise((resolve) => {
    const connected = mqttClient.connected
    mqttClient.publish(full, payload, { qos: 1, retain }, (err) => {
      if (err) log(`publish ${full} failed: ${err.message}`)
      resolve()
    })
    // Queued while disconnected: everything retained is published again on
    // the next connect anyway, so nobody waits for the broker to come back.
    if (!connected) resolve()
  })
}

const zbPublishState = (lock, extra = {}) =>
  zbPublish(lock.name, stable({ ...zbLockState(lock), ...extra }), { retain: true })
const zbPublishAvailability = (name, online) => zbPublish(`${name}/availability`, zbAvailability(online), { retain: true })
const zbPublishDevices = () => zbPublish('bridge/devices', stable(zbDevicesPayload()), { retain: true })
const zbPublishEvent = (type, data) => zbPublish('bridge/event', stable({ type, data }))

function zbInfoPayload() {
  return {
    version: Z2M_VERSION,
    commit: 'devsim',
    coordinator: { ieee_address: COORDINATOR_IEEE, type: 'zStack3x0', meta: { product: 1, revision: 20230507 } },
    network: { channel: 11, pan_id: 6754, extended_pan_id: '0xdddddddddddddddd' },
    log_level: 'info',
    permit_join: false,
    restart_required: false,
    config: {
      mqtt: { base_topic: OPT.base, server: OPT.mqtt },
      advanced: { legacy_availability_payload: OPT.legacyAvailability, last_seen: 'disable' },
      availability: true,
      permit_join: false,
    },
  }
}

/** Every retained topic, as Zigbee2MQTT publishes them when it starts. */
async function zbPublishAll() {
  const jobs = [
    zbPublish('bridge/state', OPT.legacyAvailability ? 'online' : stable({ state: 'online' }), { retain: true }),
    zbPublish('bridge/info', stable(zbInfoPayload()), { retain: true }),
    zbPublishDevices(),
    zbPublish('bridge/groups', '[]', { retain: true }),
    zbPublish(SENSOR.name, stable({ battery: 100, humidity: 48.2, linkquality: 96, pressure: 1012, temperature: 21.5, voltage: 3005 }), { retain: true }),
    zbPublishAvailability(SENSOR.name, true),
  ]
  for (const lock of zbLocks.values()) {
    jobs.push(zbPublishAvailability(lock.name, lock.online))
    jobs.push(zbPublishState(lock))
  }
  await Promise.all(jobs)
}

/** The lock of a friendly name or an IEEE address. */
function zbFind(id) {
  const byName = zbLocks.get(id)
  if (byName) return byName
  for (const lock of zbLocks.values()) if (lock.ieee === id) return lock
  return null
}

/** A `state` command (LOCK/UNLOCK) sent to a lock over MQTT. */
function zbCommand(lock, value) {
  const entry = { state: value, at: nowIso(), result: 'pending' }
  lock.commands.push(entry)
  if (!lock.online) {
    entry.result = 'offline'
    log(`zigbee ${lock.name}: ${value} while offline: no answer`)
    later(OPT.latencyMs, () =>
      zbPublish(
        'bridge/logging',
        stable({
          level: 'error',
          message: `Publish 'set' 'state' to '${lock.name}' failed: 'Error: ZCL command ${lock.ieee}/1 closuresDoorLock.${value === 'LOCK' ? 'lockDoor' : 'unlockDoor'}({"pincodevalue":""}) failed (Delivery failed)'`,
          namespace: 'z2m',
        }),
      ),
    )
    return
  }
  if (lock.mode === 'ignore') {
    entry.result = 'ignored'
    log(`zigbee ${lock.name}: ${value} ignored (mode ignore)`)
    return
  }
  const jam = lock.mode === 'jam'
  later(OPT.latencyMs, () => {
    if (zbLocks.get(lock.name) !== lock) return
    if (!lock.online) {
      entry.result = 'offline'
      return
    }
    if (jam) {
      lock.jammed = true
      entry.result = 'jammed'
    } else {
      lock.jammed = false
      lock.locked = value === 'LOCK'
      entry.result = 'done'
    }
    log(`zigbee ${lock.name}: ${value} -> ${zbLockState(lock).lock_state}`)
    zbPublishState(lock)
  })
}

function zbOnMessage(topic, payload) {
  const prefix = `${OPT.base}/`
  if (!topic.startsWith(prefix)) return
  const parts = topic.slice(prefix.length).split('/')
  if (parts[0] === 'bridge') return
  const text = payload.toString('utf8')
  let device = parts[0]
  let verb = parts[1]
  let attr = parts[2]
  if (parts.length < 2 || (verb !== 'set' && verb !== 'get') || parts.length > 3) return
  const lock = zbFind(device)
  if (!lock) {
    if (device !== SENSOR.name) log(`zigbee: ${topic}: no such device`)
    return
  }
  let message
  if (attr !== undefined) {
    message = { [attr]: text }
  } else {
    try {
      message = JSON.parse(text)
    } catch {
      message = null
    }
    if (!message || typeof message !== 'object' || Array.isArray(message)) {
      // Zigbee2MQTT takes a bare value as {"state": value}.
      message = text ? { state: text } : {}
    }
  }
  if (verb === 'get') {
    if ('state' in message || 'lock_state' in message) {
      if (lock.online) zbPublishState(lock)
    }
    return
  }
  if (!('state' in message)) {
    log(`zigbee ${lock.name}: set ${text}: nothing this simulator does`)
    return
  }
  const value = String(message.state).toUpperCase()
  if (value !== 'LOCK' && value !== 'UNLOCK') {
    log(`zigbee ${lock.name}: set state ${message.state}: neither LOCK nor UNLOCK`)
    zbPublish('bridge/logging', stable({ level: 'error', message: `No converter available for 'state' (${JSON.stringify(message.state)})`, namespace: 'z2m' }))
    return
  }
  zbCommand(lock, value)
}

async function startMqtt() {
  const options = {
    clientId: `devsim_${crypto.randomBytes(6).toString('hex')}`,
    reconnectPeriod: 500,
    connectTimeout: 5_000,
    clean: true,
    resubscribe: true,
    reconnectOnConnackError: true,
    will: {
      topic: `${OPT.base}/bridge/state`,
      payload: Buffer.from(OPT.legacyAvailability ? 'offline' : stable({ state: 'offline' })),
      qos: 1,
      retain: true,
    },
  }
  if (OPT.mqttUsername !== undefined) options.username = OPT.mqttUsername
  if (OPT.mqttPassword !== undefined) options.password = OPT.mqttPassword
  const client = mqtt.connect(OPT.mqtt, options)
  mqttClient = client
  client.on('message', (topic, payload) => {
    try {
      zbOnMessage(topic, payload)
    } catch (err) {
      log(`zigbee: ${topic}: ${err.stack}`)
    }
  })
  client.on('offline', () => log('mqtt: disconnected'))
  client.on('reconnect', () => {})
  return new Promise((resolve, reject) => {
    client.on('error', (err) => {
      log(`mqtt: ${err.message}`)
      // A broker that refuses us before we were ever ready: give up.
      if (!mqttEverConnected && [4, 5, 134, 135].includes(err.code)) reject(new Error(`MQTT broker refused the connection: ${err.message}`))
    })
    client.on('connect', async () => {
      log(`mqtt: connected to ${OPT.mqtt}`)
      try {
        await new Promise((res, rej) =>
          client.subscribe(
            [`${OPT.base}/+/set`, `${OPT.base}/+/set/+`, `${OPT.base}/+/get`, `${OPT.base}/+/get/+`],
            { qos: 1 },
            (err) => (err ? rej(err) : res()),
          ),
        )
        // The broker may have restarted without persistence: publish every
        // retained topic again, on every connect.
        await zbPublishAll()
      } catch (err) {
        log(`mqtt: after connect: ${err.message}`)
        return
      }
      if (!mqttEverConnected) {
        mqttEverConnected = true
        resolve()
      }
    })
  })
}

// ---- the Home-Assistant-like server ----

const HA_VERSION = '2024.6.0'
const HA_USER_ID = 'b2c3d4e5f60718293a4b5c6d7e8f9012'
const HA_NAMES = ['front_door', 'back_door', 'side_gate', 'garage_door', 'patio_door', 'cellar_door', 'shed_door', 'office_door']
const HA_BATTERY = [90, 75, 55, 100, 62, 48, 81, 33]
const HA_LOCK_STATES = new Set(['locked', 'unlocked', 'locking', 'unlocking', 'jammed', 'open', 'opening'])

/** HA's timestamps: 2024-06-01T12:34:56.123456+00:00. */
function haTime() {
  const t = performance.timeOrigin + performance.now()
  const ms = Math.floor(t)
  const micro = String(Math.min(999, Math.floor((t - ms) * 1000))).padStart(3, '0')
  return `${new Date(ms).toISOString().slice(0, 23)}${micro}+00:00`
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
/** A ULID, as HA's context ids are. */
function ulid() {
  let time = Date.now()
  let head = ''
  for (let i = 0; i < 10; i++) {
    head = CROCKFORD[time % 32] + head
    time = Math.floor(time / 32)
  }
  const bytes = crypto.randomBytes(16)
  let tail = ''
  for (let i = 0; i < 16; i++) tail += CROCKFORD[bytes[i] % 32]
  return head + tail
}

const haContext = (userId = null) => ({ id: ulid(), parent_id: null, user_id: userId })

/** entity_id -> entity. */
const haEntities = new Map()
/** Open, authenticated WebSocket connections. */
const haConnections = new Set()

function newHaLock(entityId, name, battery) {
  return {
    entity_id: entityId,
    kind: 'lock',
    name,
    lockState: 'locked', // locked | unlocked | jammed: what the lock is
    online: true,
    mode: 'normal',
    battery,
    changedBy: null,
    commands: [],
    current: null, // the state object HA shows
  }
}

function haLockAttributes(ent) {
  const attrs = { friendly_name: ent.name, supported_features: 0 }
  if (!ent.online) return attrs
  if (ent.battery !== null && ent.battery !== undefined) attrs.battery_level = ent.battery
  if (ent.changedBy) attrs.changed_by = ent.changedBy
  return attrs
}

/**
 * Writes an entity's state as HA does: last_changed moves only when the state
 * does, and an unchanged state with unchanged attributes fires no event.
 * newState null removes the entity.
 */
function haWrite(ent, state, attributes, context) {
  const old = ent.current
  const now = haTime()
  let next = null
  if (state !== null) {
    if (old && old.state === state && stable(old.attributes) === stable(attributes)) {
      old.last_reported = now
      return old
    }
    next = {
      entity_id: ent.entity_id,
      state,
      attributes,
      last_changed: old && old.state === state ? old.last_changed : now,
      last_reported: now,
      last_updated: now,
      context,
    }
  }
  ent.current = next
  haFire('state_changed', { entity_id: ent.entity_id, old_state: old, new_state: next }, context)
  return next
}

function haWriteLock(ent, context) {
  const state = ent.online ? ent.transient ?? ent.lockState : 'unavailable'
  return haWrite(ent, state, haLockAttributes(ent), context)
}

for (let i = 0; i < OPT.haLocks; i++) {
  const slug = HA_NAMES[i] ?? `lock_${i + 1}`
  const ent = newHaLock(`lock.${slug}`, humanName(slug), HA_BATTERY[i % HA_BATTERY.length])
  haEntities.set(ent.entity_id, ent)
  haWriteLock(ent, haContext())
}
{
  const sensor = { entity_id: 'sensor.hallway_temperature', kind: 'sensor', current: null }
  haEntities.set(sensor.entity_id, sensor)
  haWrite(
    sensor,
    '21.4',
    { state_class: 'measurement', unit_of_measurement: '°C', device_class: 'temperature', friendly_name: 'Hallway temperature' },
    haContext(),
  )
}

const haStates = () => [...haEntities.values()].map((e) => e.current).filter(Boolean)

function haFire(eventType, data, context) {
  const event = { event_type: eventType, data, origin: 'LOCAL', time_fired: haTime(), context }
  for (const conn of haConnections) {
    for (const [id, type] of conn.subscriptions) {
      if (type === null || type === eventType) conn.send({ id, type: 'event', event })
    }
  }
}

/** The entity ids a service call names (entity_id: a string, a list, or "all"). */
function haTargets(...sources) {
  const ids = []
  for (const source of sources) {
    if (!source || typeof source !== 'object') continue
    let value = source.entity_id
    if (value === undefined) continue
    if (value === 'all') {
      for (const e of haEntities.values()) if (e.kind === 'lock') ids.push(e.entity_id)
      continue
    }
    if (typeof value === 'string') value = value.split(',').map((s) => s.trim())
    if (Array.isArray(value)) for (const id of value) if (typeof id === 'string') ids.push(id.toLowerCase())
  }
  return [...new Set(ids)]
}

const HA_SERVICES = {
  lock: { lock: {}, unlock: {}, open: {} },
  homeassistant: { update_entity: {} },
}

class ServiceNotFound extends Error {}
/** A service call the integration refused (HA's HomeAssistantError). */
class ServiceRefused extends Error {}

/**
 * Calls domain.service on the entities named; resolves the states it changed
 * (HA's REST answer). Throws ServiceNotFound for an unknown service.
 */
function haCallService(domain, service, ids, context) {
  if (!HA_SERVICES[domain]?.[service]) throw new ServiceNotFound(`Service ${domain}.${service} not found.`)
  haFire('call_service', { domain, service, service_data: ids.length ? { entity_id: ids } : {} }, context)
  const changed = []
  for (const id of ids) {
    const ent = haEntities.get(id)
    if (!ent || ent.kind !== 'lock') {
      log(`ha: ${domain}.${service}: referenced entity ${id} is missing`)
      continue
    }
    if (domain === 'homeassistant') {
      if (ent.online) haWriteLock(ent, context)
      continue
    }
    const entry = { service, at: nowIso(), result: 'pending' }
    ent.commands.push(entry)
    // HA skips unavailable entities in entity service calls.
    if (!ent.online) {
      entry.result = 'offline'
      log(`ha ${id}: ${service} while unavailable: skipped`)
      continue
    }
    if (service === 'open') {
      entry.result = 'unsupported'
      continue
    }
    if (ent.mode === 'ignore') {
      entry.result = 'ignored'
      log(`ha ${id}: ${service} ignored (mode ignore)`)
      continue
    }
    if (ent.mode === 'refuse') {
      entry.result = 'refused'
      throw new ServiceRefused(`Failed to ${service} ${ent.name}: the lock reported a motor fault`)
    }
    const jam = ent.mode === 'jam'
    ent.transient = service === 'lock' ? 'locking' : 'unlocking'
    ent.changedBy = null
    const s = haWriteLock(ent, context)
    if (s) changed.push(s)
    later(OPT.latencyMs, () => {
      if (haEntities.get(id) !== ent) return
      if (ent.transient === (service === 'lock' ? 'locking' : 'unlocking')) ent.transient = null
      if (!ent.online) {
        entry.result = 'offline'
        return
      }
      if (jam) {
        ent.lockState = 'jammed'
        entry.result = 'jammed'
      } else {
        ent.lockState = service === 'lock' ? 'locked' : 'unlocked'
        entry.result = 'done'
      }
      log(`ha ${id}: ${service} -> ${ent.lockState}`)
      haWriteLock(ent, context)
    })
  }
  return changed
}

function haConfig() {
  return {
    allowlist_external_dirs: [],
    allowlist_external_urls: [],
    components: ['api', 'http', 'lock', 'sensor', 'websocket_api'],
    config_dir: '/config',
    config_source: 'storage',
    country: null,
    currency: 'EUR',
    elevation: 0,
    external_url: null,
    internal_url: null,
    language: 'en',
    latitude: 52.3731,
    location_name: 'Home',
    longitude: 4.8922,
    radius: 100,
    recovery_mode: false,
    safe_mode: false,
    state: 'RUNNING',
    time_zone: 'UTC',
    unit_system: {
      length: 'km',
      accumulated_precipitation: 'mm',
      mass: 'g',
      pressure: 'Pa',
      temperature: '°C',
      volume: 'L',
      wind_speed: 'm/s',
    },
    version: HA_VERSION,
    whitelist_external_dirs: [],
  }
}

const haServicesList = () =>
  Object.entries(HA_SERVICES).map(([domain, services]) => ({
    domain,
    services: Object.fromEntries(Object.keys(services).map((s) => [s, { name: s, description: '', fields: {}, target: { entity: [{ domain: [domain] }] } }])),
  }))

function sendText(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

function sendJson(res, status, value) {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) })
  res.end(body)
}

function readBody(req, limit = 1 << 20) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', (c) => {
      size += c.length
      if (size > limit) {
        reject(new Error('body too large'))
        req.destroy()
      } else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

const bearer = (req) => /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]

async function haRest(req, res) {
  const url = new URL(req.url, 'http://localhost')
  const path = url.pathname
  if (!path.startsWith('/api/') && path !== '/api') return sendText(res, 404, '404: Not Found')
  // Every view of HA's REST API requires authentication (even /api/).
  if (bearer(req) !== haToken) return sendText(res, 401, '401: Unauthorized')
  const method = req.method
  let m
  if (path === '/api/' || path === '/api') {
    if (method !== 'GET') return sendText(res, 405, '405: Method Not Allowed')
    return sendJson(res, 200, { message: 'API running.' })
  }
  if (path === '/api/config') {
    if (method !== 'GET') return sendText(res, 405, '405: Method Not Allowed')
    return sendJson(res, 200, haConfig())
  }
  if (path === '/api/states') {
    if (method !== 'GET') return sendText(res, 405, '405: Method Not Allowed')
    return sendJson(res, 200, haStates())
  }
  if ((m = /^\/api\/states\/([^/]+)$/.exec(path))) {
    if (method !== 'GET') return sendText(res, 405, '405: Method Not Allowed')
    const ent = haEntities.get(decodeURIComponent(m[1]).toLowerCase())
    if (!ent?.current) return sendJson(res, 404, { message: 'Entity not found.' })
    return sendJson(res, 200, ent.current)
  }
  if (path === '/api/services') {
    if (method !== 'GET') return sendText(res, 405, '405: Method Not Allowed')
    return sendJson(res, 200, haServicesList())
  }
  if ((m = /^\/api\/services\/([^/]+)\/([^/]+)$/.exec(path))) {
    if (method !== 'POST') return sendText(res, 405, '405: Method Not Allowed')
    const text = await readBody(req)
    let data = {}
    if (text.trim()) {
      try {
        data = JSON.parse(text)
      } catch {
        return sendJson(res, 400, { message: 'Data should be valid JSON.' })
      }
    }
    if (!data || typeof data !== 'object' || Array.isArray(data)) return sendJson(res, 400, { message: 'Data should be valid JSON.' })
    const [domain, service] = [decodeURIComponent(m[1]), decodeURIComponent(m[2])]
    try {
      const changed = haCallService(domain, service, haTargets(data), haContext(HA_USER_ID))
      log(`ha REST: ${domain}.${service} ${JSON.stringify(data)}`)
      return sendJson(res, 200, changed)
    } catch (err) {
      if (err instanceof ServiceNotFound) return sendText(res, 400, '400: Bad Request')
      if (err instanceof ServiceRefused) return sendText(res, 500, `500: Internal Server Error (${err.message})`)
      throw err
    }
  }
  return sendText(res, 404, '404: Not Found')
}

// The WebSocket API.

function haWsConnection(ws) {
  const conn = {
    ws,
    token: null,
    lastId: 0,
    subscriptions: new Map(), // id -> event_type or null (all)
    send(msg) {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg))
    },
  }
  const authTimer = setTimeout(() => ws.close(), 10_000)
  conn.send({ type: 'auth_required', ha_version: HA_VERSION })
  const result = (id, value) => conn.send({ id, type: 'result', success: true, result: value })
  const error = (id, code, message) => conn.send({ id, type: 'result', success: false, error: { code, message } })

  ws.on('message', (data, isBinary) => {
    let msg
    try {
      msg = JSON.parse(isBinary ? Buffer.from(data).toString('utf8') : data.toString())
    } catch {
      msg = undefined
    }
    if (conn.token === null) {
      if (!msg || msg.type !== 'auth' || typeof msg.access_token !== 'string') {
        conn.send({ type: 'auth_invalid', message: 'Auth message incorrectly formatted: expected a message {"type": "auth", "access_token": "..."}' })
        ws.close()
        return
      }
      if (msg.access_token !== haToken) {
        log('ha ws: auth_invalid')
        conn.send({ type: 'auth_invalid', message: 'Invalid access token or password' })
        ws.close()
        return
      }
      clearTimeout(authTimer)
      conn.token = msg.access_token
      haConnections.add(conn)
      conn.send({ type: 'auth_ok', ha_version: HA_VERSION })
      return
    }
    if (msg === undefined) {
      // HA drops a connection that sends what is not JSON.
      ws.close(1003)
      return
    }
    for (const one of Array.isArray(msg) ? msg : [msg]) haWsCommand(conn, one, result, error)
  })
  ws.on('close', () => {
    clearTimeout(authTimer)
    haConnections.delete(conn)
  })
  ws.on('error', () => {})
}

function haWsCommand(conn, msg, result, error) {
  if (!msg || typeof msg !== 'object' || !Number.isInteger(msg.id) || typeof msg.type !== 'string') {
    error(msg && Number.isInteger(msg.id) ? msg.id : null, 'invalid_format', 'Message incorrectly formatted.')
    return
  }
  const { id, type } = msg
  if (type !== 'supported_features' && id <= conn.lastId) {
    error(id, 'id_reuse', 'Identifier values have to increase.')
    return
  }
  conn.lastId = id
  switch (type) {
    case 'ping':
      conn.send({ id, type: 'pong' })
      return
    case 'supported_features':
      result(id, null)
      return
    case 'subscribe_events': {
      const eventType = msg.event_type ?? null
      if (eventType !== null && typeof eventType !== 'string') {
        error(id, 'invalid_format', "expected str for dictionary value @ data['event_type']")
        return
      }
      conn.subscriptions.set(id, eventType)
      result(id, null)
      return
    }
    case 'unsubscribe_events':
      if (!conn.subscriptions.delete(msg.subscription)) {
        error(id, 'not_found', 'Subscription not found.')
        return
      }
      result(id, null)
      return
    case 'get_states':
      result(id, haStates())
      return
    case 'get_config':
      result(id, haConfig())
      return
    case 'get_services':
      result(id, Object.fromEntries(haServicesList().map((d) => [d.domain, d.services])))
      return
    case 'call_service': {
      if (typeof msg.domain !== 'string' || typeof msg.service !== 'string') {
        error(id, 'invalid_format', "required key not provided @ data['domain']")
        return
      }
      const context = haContext(HA_USER_ID)
      try {
        haCallService(msg.domain, msg.service, haTargets(msg.service_data, msg.target), context)
      } catch (err) {
        if (err instanceof ServiceNotFound) {
          error(id, 'not_found', err.message)
          return
        }
        if (err instanceof ServiceRefused) {
          error(id, 'home_assistant_error', err.message)
          return
        }
        throw err
      }
      log(`ha ws: ${msg.domain}.${msg.service} ${JSON.stringify(msg.target ?? msg.service_data ?? {})}`)
      result(id, { context, response: null })
      return
    }
    default:
      error(id, 'unknown_command', 'Unknown command.')
  }
}

/** Revokes the current token: 401 on REST, and its WebSockets closed. */
function haSetToken(token) {
  const old = haToken
  haToken = token
  for (const conn of [...haConnections]) {
    if (conn.token === old) {
      haConnections.delete(conn)
      conn.ws.close(1000)
    }
  }
}

// ---- the control API ----

class HttpError extends Error {
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

function needBoolean(body, key) {
  if (typeof body[key] !== 'boolean') throw new HttpError(400, `"${key}": true or false`)
  return body[key]
}

function needMode(body) {
  if (!['normal', 'ignore', 'jam', 'refuse'].includes(body.mode))
    throw new HttpError(400, '"mode": "normal", "ignore", "jam" or "refuse"')
  return body.mode
}

function needBattery(body) {
  if (!Number.isInteger(body.battery) || body.battery < 0 || body.battery > 100) throw new HttpError(400, '"battery": a whole number from 0 to 100')
  return body.battery
}

function needMethod(body, locked) {
  const method = body.method ?? 'manual'
  if (!HAND_METHODS.includes(method)) throw new HttpError(400, `"method": one of ${HAND_METHODS.join(', ')}`)
  if (!ZB_METHODS[method].action(locked)) throw new HttpError(400, `"method": ${method} cannot unlock`)
  if (body.user !== undefined && (!Number.isInteger(body.user) || body.user < 0 || body.user > 65535)) {
    throw new HttpError(400, '"user": a whole number')
  }
  return method
}

function controlState() {
  const zigbee = {}
  for (const lock of zbLocks.values()) {
    zigbee[lock.name] = {
      ieee_address: lock.ieee,
      locked: lock.locked && !lock.jammed,
      lock_state: zbLockState(lock).lock_state,
      online: lock.online,
      mode: lock.mode,
      battery: lock.battery,
      commands: lock.commands,
    }
  }
  const ha = {}
  for (const ent of haEntities.values()) {
    if (ent.kind !== 'lock') continue
    ha[ent.entity_id] = {
      state: ent.current?.state ?? null,
      locked: ent.lockState === 'locked',
      online: ent.online,
      mode: ent.mode,
      battery: ent.battery,
      commands: ent.commands,
    }
  }
  return { zigbee, ha, ha_token: haToken, mqtt_connected: mqttClient ? mqttClient.connected : null }
}

async function zbControl(name, action, body) {
  if (!mqttClient) throw new HttpError(404, 'no Zigbee bridge (devsim runs without --mqtt)')
  if (name === 'add' && action === undefined) {
    const newName = body.name
    if (typeof newName !== 'string' || !NAME_RE.test(newName) || newName === 'bridge') {
      throw new HttpError(400, '"name": letters, digits, _ and - (not "bridge")')
    }
    if (zbLocks.has(newName) || newName === SENSOR.name || newName === 'Coordinator') throw new HttpError(409, `${newName} exists`)
    const lock = newZbLock(newName, { battery: body.battery === undefined ? undefined : needBattery(body) })
    zbLocks.set(newName, lock)
    log(`zigbee ${newName}: joined (${lock.ieee})`)
    await zbPublishEvent('device_joined', { friendly_name: newName, ieee_address: lock.ieee })
    await zbPublishEvent('device_interview', { friendly_name: newName, ieee_address: lock.ieee, status: 'started' })
    await zbPublishEvent('device_interview', {
      friendly_name: newName,
      ieee_address: lock.ieee,
      status: 'successful',
      supported: true,
      definition: zbDeviceEntry(lock).definition,
    })
    await zbPublishDevices()
    await zbPublishAvailability(newName, true)
    await zbPublishState(lock)
    return { ok: true, ieee_address: lock.ieee }
  }
  const lock = zbLocks.get(name)
  if (!lock) throw new HttpError(404, `no Zigbee lock ${name}`)
  switch (action) {
    case 'operate': {
      const locked = needBoolean(body, 'locked')
      const method = needMethod(body, locked)
      const how = ZB_METHODS[method]
      lock.locked = locked
      lock.jammed = false
      log(`zigbee ${name}: ${locked ? 'locked' : 'unlocked'} by hand (${method})${lock.online ? '' : ', while offline'}`)
      if (!lock.online) return { ok: true, published: false }
      await zbPublishState(lock, {
        action: how.action(locked),
        action_source: how.source,
        action_source_name: LOCK_SOURCE_NAMES[how.source],
        action_user: body.user ?? how.user,
      })
      return { ok: true, published: true }
    }
    case 'mode':
      lock.mode = needMode(body)
      log(`zigbee ${name}: mode ${lock.mode}`)
      return { ok: true }
    case 'online': {
      const online = needBoolean(body, 'online')
      if (online === lock.online) return { ok: true }
      lock.online = online
      log(`zigbee ${name}: ${online ? 'online' : 'offline'}`)
      await zbPublishAvailability(name, online)
      if (online) await zbPublishState(lock)
      return { ok: true }
    }
    case 'battery':
      lock.battery = needBattery(body)
      if (lock.online) await zbPublishState(lock)
      return { ok: true }
    case 'remove':
      zbLocks.delete(name)
      log(`zigbee ${name}: removed`)
      await zbPublish(name, '', { retain: true })
      await zbPublish(`${name}/availability`, '', { retain: true })
      await zbPublishDevices()
      await zbPublishEvent('device_leave', { ieee_address: lock.ieee, friendly_name: name })
      return { ok: true }
    default:
      throw new HttpError(404, `no action ${action}`)
  }
}

function haControl(entityId, action, body) {
  if (OPT.haPort === undefined) throw new HttpError(404, 'no Home Assistant (devsim runs without --ha-port)')
  if (entityId === 'token' && action === undefined) {
    const token = body.token ?? `devsim_${crypto.randomBytes(24).toString('hex')}`
    if (typeof token !== 'string' || !token || /\s/.test(token)) throw new HttpError(400, '"token": a string without spaces')
    haSetToken(token)
    log('ha: token replaced, the old one revoked')
    return { ok: true, token }
  }
  if (entityId === 'add' && action === undefined) {
    const id = body.entity_id
    if (typeof id !== 'string' || !/^lock\.[a-z0-9_]+$/.test(id)) throw new HttpError(400, '"entity_id": lock.<lower case, digits, _>')
    if (haEntities.has(id)) throw new HttpError(409, `${id} exists`)
    const ent = newHaLock(id, typeof body.name === 'string' && body.name ? body.name : humanName(id.slice(5)), body.battery === undefined ? null : needBattery(body))
    haEntities.set(id, ent)
    haWriteLock(ent, haContext())
    log(`ha ${id}: added`)
    return { ok: true }
  }
  const ent = haEntities.get(entityId)
  if (!ent || ent.kind !== 'lock') throw new HttpError(404, `no Home Assistant lock ${entityId}`)
  switch (action) {
    case 'operate': {
      const locked = needBoolean(body, 'locked')
      const method = needMethod(body, locked)
      ent.lockState = locked ? 'locked' : 'unlocked'
      ent.transient = null
      ent.changedBy = method
      log(`ha ${entityId}: ${ent.lockState} by hand (${method})${ent.online ? '' : ', while unavailable'}`)
      if (!ent.online) return { ok: true, published: false }
      haWriteLock(ent, haContext())
      return { ok: true, published: true }
    }
    case 'mode':
      ent.mode = needMode(body)
      log(`ha ${entityId}: mode ${ent.mode}`)
      return { ok: true }
    case 'online': {
      const online = needBoolean(body, 'online')
      if (online === ent.online) return { ok: true }
      ent.online = online
      ent.transient = null
      log(`ha ${entityId}: ${online ? 'available' : 'unavailable'}`)
      haWriteLock(ent, haContext())
      return { ok: true }
    }
    case 'battery':
      ent.battery = needBattery(body)
      if (ent.online) haWriteLock(ent, haContext())
      return { ok: true }
    case 'remove':
      haEntities.delete(entityId)
      haWrite(ent, null, null, haContext())
      log(`ha ${entityId}: removed`)
      return { ok: true }
    default:
      throw new HttpError(404, `no action ${action}`)
  }
}

async function control(req, res) {
  const url = new URL(req.url, 'http://localhost')
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
  if (req.method === 'GET' && (url.pathname === '/state' || url.pathname === '/')) return sendJson(res, 200, controlState())
  if (req.method === 'GET' && url.pathname === '/health') return sendJson(res, 200, { ok: true })
  if (req.method !== 'POST') throw new HttpError(url.pathname === '/state' ? 405 : 404, 'no such route')
  const text = await readBody(req)
  let body = {}
  if (text.trim()) {
    try {
      body = JSON.parse(text)
    } catch {
      throw new HttpError(400, 'the body is not JSON')
    }
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'the body must be a JSON object')
  if (parts.length >= 2 && parts.length <= 3 && parts[0] === 'zigbee') return sendJson(res, 200, await zbControl(parts[1], parts[2], body))
  if (parts.length >= 2 && parts.length <= 3 && parts[0] === 'ha') return sendJson(res, 200, haControl(parts[1], parts[2], body))
  throw new HttpError(404, 'no such route')
}

// ---- servers and lifetime ----

function handler(fn, name) {
  return (req, res) => {
    Promise.resolve()
      .then(() => fn(req, res))
      .catch((err) => {
        if (res.headersSent) return res.destroy()
        if (err instanceof HttpError) return sendJson(res, err.status, { ok: false, error: err.message })
        log(`${name}: ${req.method} ${req.url}: ${err.stack}`)
        sendJson(res, 500, { ok: false, error: err.message })
      })
  }
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve(server.address().port)
    })
  })
}

const servers = []
let wss = null
let stopping = false

async function shutdown(signal) {
  if (stopping) return
  stopping = true
  log(`${signal}: stopping`)
  for (const t of timers) clearTimeout(t)
  timers.clear()
  for (const conn of haConnections) conn.ws.close(1001)
  if (wss) wss.close()
  for (const server of servers) {
    server.close()
    server.closeAllConnections()
  }
  if (mqttClient) {
    const client = mqttClient
    if (client.connected) {
      // As Zigbee2MQTT does when it stops.
      await Promise.race([
        zbPublish('bridge/state', OPT.legacyAvailability ? 'offline' : stable({ state: 'offline' }), { retain: true }),
        new Promise((r) => setTimeout(r, 1_000)),
      ])
    }
    await new Promise((resolve) => {
      const t = setTimeout(resolve, 1_000)
      client.end(false, {}, () => {
        clearTimeout(t)
        resolve()
      })
    })
  }
  process.exit(0)
}

async function main() {
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))

  const controlServer = http.createServer(handler(control, 'control'))
  servers.push(controlServer)
  const controlPort = await listen(controlServer, OPT.controlPort)
  log(`control API on http://127.0.0.1:${controlPort}`)

  let haUrl = null
  if (OPT.haPort !== undefined) {
    const haServer = http.createServer(handler(haRest, 'ha'))
    servers.push(haServer)
    wss = new WebSocketServer({ noServer: true, maxPayload: 16 << 20 })
    wss.on('connection', haWsConnection)
    haServer.on('upgrade', (req, socket, head) => {
      if (new URL(req.url, 'http://localhost').pathname !== '/api/websocket') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
        return
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
    })
    const port = await listen(haServer, OPT.haPort)
    haUrl = `http://127.0.0.1:${port}`
    log(`Home Assistant API on ${haUrl} (${[...haEntities.keys()].join(', ')})`)
  }

  if (OPT.mqtt !== undefined) {
    log(`Zigbee2MQTT bridge on ${OPT.mqtt}, base topic ${OPT.base} (${[...zbLocks.keys()].join(', ')})`)
    await startMqtt()
  }

  if (stopping) return
  process.stdout.write(
    `${JSON.stringify({
      ready: true,
      control: `http://127.0.0.1:${controlPort}`,
      ha: haUrl,
      mqtt: OPT.mqtt ?? null,
      base_topic: OPT.base,
      ha_token: haToken,
    })}\n`,
  )
}

main().catch((err) => {
  log(`fatal: ${err.message}`)
  process.exit(1)
})
