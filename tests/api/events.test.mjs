// events/get and events/list: what is recorded (connected_account.connected,
// device.connected, lock.locked/unlocked, action_attempt.*.succeeded/failed,
// connected_account.disconnected, device.removed, client_session.deleted),
// the filters (since, between, device_id(s), connected_account_id,
// event_type(s), limit), and scope for tokens and other workspaces.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import {
  SEED,
  assertError,
  assertInvalidInput,
  assertResponseMatchesSchema,
  assertOk,
  call,
  isUuid,
  sdkFromApiKey,
  sdkFromToken,
  sleep,
  useServer,
  uniqueKey,
} from './harness.mjs'
import { LOGINS, accountDevices, connectAccount, newSandboxWorkspace, waitFor } from './webview_flow.mjs'

const srv = useServer({ args: ['--action-delay-ms', '100'] })

const EPOCH = '2000-01-01T00:00:00.000Z'

async function listEvents(query, token) {
  const res = await call(srv, '/events/list', { method: 'GET', token, query })
  const out = assertOk(res, 'events')
  assertResponseMatchesSchema('/events/list', out, 'get')
  return out.events
}

async function listEventsPost(body, token) {
  const res = await call(srv, '/events/list', { token, body })
  const out = assertOk(res, 'events')
  assertResponseMatchesSchema('/events/list', out)
  return out.events
}

async function getEventRaw(id, token) {
  return call(srv, '/events/get', { method: 'GET', token, query: { event_id: id } })
}

const types = (events) => events.map((e) => e.event_type)
const count = (events, type) => events.filter((e) => e.event_type === type).length

async function act(route, deviceId, token) {
  return assertOk(
    await call(srv, `/locks/${route}`, { token, body: { device_id: deviceId, sync: true } }),
    'action_attempt',
  ).action_attempt
}

/**
 * A fresh workspace where jane's august account was connected, one lock
 * unlocked then locked, with client-side timestamps between the steps.
 */
async function story() {
  const ws = await newSandboxWorkspace(srv, 'Events')
  const t0 = new Date().toISOString()
  await sleep(20)
  const session = assertOk(
    await call(srv, '/client_sessions/create', { token: ws.apiKey, body: { user_identifier_key: uniqueKey('ev') } }),
  ).client_session
  const { connected_account_id, connect_webview_id } = await connectAccount(srv, session.token, {
    provider: 'august',
    username: LOGINS.jane,
  })
  const devices = (await accountDevices(srv, ws.apiKey, connected_account_id))
  const [d1, d2] = devices.map((d) => d.device_id)
  await sleep(20)
  const t1 = new Date().toISOString()
  await sleep(20)
  const unlock = await act('unlock_door', d1, ws.apiKey)
  await sleep(20)
  const t2 = new Date().toISOString()
  await sleep(20)
  const lock = await act('lock_door', d1, ws.apiKey)
  await sleep(20)
  const t3 = new Date().toISOString()
  return { ws, session, connected_account_id, connect_webview_id, d1, d2, unlock, lock, t0, t1, t2, t3 }
}

describe('what is recorded', () => {
  it('connecting, unlocking and locking record their events, each matching the schema', async () => {
    const s = await story()
    const events = await listEvents({ since: s.t0 }, s.ws.apiKey)
    for (const e of events) {
      assert.ok(isUuid(e.event_id), e.event_id)
      assert.equal(e.workspace_id, s.ws.workspace_id)
      assert.ok(!Number.isNaN(Date.parse(e.created_at)))
      assert.ok(!Number.isNaN(Date.parse(e.occurred_at)))
    }
    const connected = events.filter((e) => e.event_type === 'connected_account.connected')
    assert.equal(connected.length, 1)
    assert.equal(connected[0].connected_account_id, s.connected_account_id)
    const devConnected = events.filter((e) => e.event_type === 'device.connected')
    assert.deepEqual(devConnected.map((e) => e.device_id).sort(), [s.d1, s.d2].sort())
    for (const e of devConnected) assert.equal(e.connected_account_id, s.connected_account_id)
    const unlocked = events.filter((e) => e.event_type === 'lock.unlocked')
    assert.equal(unlocked.length, 1)
    assert.equal(unlocked[0].device_id, s.d1)
    assert.equal(unlocked[0].connected_account_id, s.connected_account_id)
    const locked = events.filter((e) => e.event_type === 'lock.locked')
    assert.equal(locked.length, 1)
    assert.equal(locked[0].device_id, s.d1)
    const unlockOk = events.filter((e) => e.event_type === 'action_attempt.unlock_door.succeeded')
    assert.equal(unlockOk.length, 1)
    assert.equal(unlockOk[0].action_attempt_id, s.unlock.action_attempt_id)
    assert.equal(unlockOk[0].action_type, 'UNLOCK_DOOR')
    assert.equal(unlockOk[0].status, 'success')
    const lockOk = events.filter((e) => e.event_type === 'action_attempt.lock_door.succeeded')
    assert.equal(lockOk.length, 1)
    assert.equal(lockOk[0].action_attempt_id, s.lock.action_attempt_id)
    // Nothing was recorded twice.
    assert.equal(new Set(events.map((e) => e.event_id)).size, events.length)
  })

  it('a failed action records action_attempt.<action>.failed', async () => {
    const ws = await newSandboxWorkspace(srv, 'Events offline')
    const since = new Date().toISOString()
    const { connected_account_id } = await connectAccount(srv, ws.apiKey, {
      provider: 'yale',
      username: LOGINS.offline,
    })
    const devices = (await accountDevices(srv, ws.apiKey, connected_account_id))
    const offline = devices.find((d) => d.properties.online === false)
    const a = await act('unlock_door', offline.device_id, ws.apiKey)
    assert.equal(a.status, 'error')
    const failed = await listEvents({ since, event_types: ['action_attempt.unlock_door.failed'] }, ws.apiKey)
    assert.equal(failed.length, 1)
    assert.equal(failed[0].action_attempt_id, a.action_attempt_id)
    assert.equal(count(await listEvents({ since }, ws.apiKey), 'lock.unlocked'), 0)
  })

  it('deleting the account records connected_account.disconnected and device.removed', async () => {
    const s = await story()
    const since = new Date().toISOString()
    await sleep(10)
    assertOk(
      await call(srv, '/connected_accounts/delete', {
        token: s.ws.apiKey,
        body: { connected_account_id: s.connected_account_id },
      }),
    )
    const events = await waitFor(async () => {
      const evs = await listEvents({ since }, s.ws.apiKey)
      return count(evs, 'connected_account.disconnected') >= 1 ? evs : null
    }, { what: 'connected_account.disconnected' })
    const disc = events.filter((e) => e.event_type === 'connected_account.disconnected')
    assert.equal(disc.length, 1)
    assert.equal(disc[0].connected_account_id, s.connected_account_id)
    const removed = events.filter((e) => e.event_type === 'device.removed')
    assert.deepEqual(removed.map((e) => e.device_id).sort(), [s.d1, s.d2].sort())
    // The events stay readable with the API key after the account is gone.
    assert.ok((await listEvents({ since: s.t0, device_ids: [s.d1] }, s.ws.apiKey)).length >= 3)
  })

  it('deleting a client session records client_session.deleted', async () => {
    const ws = await newSandboxWorkspace(srv, 'Events session')
    const since = new Date().toISOString()
    const cs = assertOk(
      await call(srv, '/client_sessions/create', { token: ws.apiKey, body: { user_identifier_key: uniqueKey('del') } }),
    ).client_session
    assertOk(await call(srv, '/client_sessions/delete', { token: ws.apiKey, body: { client_session_id: cs.client_session_id } }))
    const events = await listEvents({ since, event_types: ['client_session.deleted'] }, ws.apiKey)
    assert.equal(events.length, 1)
    assert.equal(events[0].client_session_id, cs.client_session_id)
  })
})

describe('events/list filters', () => {
  let s
  before(async () => {
    s = await story()
  })

  it('since/between is required (invalid_input)', async () => {
    const res = await call(srv, '/events/list', { method: 'GET', token: s.ws.apiKey })
    assertError(res, 400, 'invalid_input')
  })

  it('since: events at or after it; a future since gives nothing', async () => {
    const all = await listEvents({ since: EPOCH }, s.ws.apiKey)
    const fromT1 = await listEvents({ since: s.t1 }, s.ws.apiKey)
    assert.ok(all.length > fromT1.length)
    assert.deepEqual(types(fromT1).sort(), [
      'action_attempt.lock_door.succeeded',
      'action_attempt.unlock_door.succeeded',
      'lock.locked',
      'lock.unlocked',
    ])
    for (const e of fromT1) assert.ok(Date.parse(e.occurred_at) >= Date.parse(s.t1) || Date.parse(e.created_at) >= Date.parse(s.t1))
    const future = new Date(Date.now() + 3_600_000).toISOString()
    assert.deepEqual(await listEvents({ since: future }, s.ws.apiKey), [])
  })

  it('between: only the events inside the interval', async () => {
    const inside = await listEvents({ between: [s.t1, s.t2] }, s.ws.apiKey)
    assert.deepEqual(types(inside).sort(), ['action_attempt.unlock_door.succeeded', 'lock.unlocked'])
    const post = await listEventsPost({ between: [s.t2, s.t3] }, s.ws.apiKey)
    assert.deepEqual(types(post).sort(), ['action_attempt.lock_door.succeeded', 'lock.locked'])
  })

  it('device_id and device_ids', async () => {
    const one = await listEvents({ since: s.t0, device_ids: [s.d1] }, s.ws.apiKey)
    for (const e of one) if (e.device_id !== undefined) assert.equal(e.device_id, s.d1)
    assert.equal(count(one, 'device.connected'), 1)
    assert.equal(count(one, 'lock.unlocked'), 1)
    assert.equal(count(one, 'lock.locked'), 1)
    const two = await listEvents({ since: s.t0, device_ids: [s.d2] }, s.ws.apiKey)
    assert.deepEqual(types(two), ['device.connected'])
    assert.equal(two[0].device_id, s.d2)
    const both = await listEventsPost({ since: s.t0, device_ids: [s.d1, s.d2] }, s.ws.apiKey)
    assert.equal(count(both, 'device.connected'), 2)
    // device_id with device_ids: both must hold.
    const narrowed = await listEventsPost({ since: s.t0, device_id: s.d1, device_ids: [s.d1, s.d2] }, s.ws.apiKey)
    assert.ok(narrowed.length > 0)
    for (const e of narrowed) assert.equal(e.device_id, s.d1)
    const disjoint = await listEventsPost({ since: s.t0, device_id: s.d1, device_ids: [s.d2] }, s.ws.apiKey)
    assert.deepEqual(disjoint, [])
  })

  it('connected_account_id', async () => {
    const evs = await listEvents({ since: s.t0, connected_account_id: s.connected_account_id }, s.ws.apiKey)
    for (const e of evs) {
      if (e.connected_account_id !== undefined) assert.equal(e.connected_account_id, s.connected_account_id)
    }
    assert.equal(count(evs, 'connected_account.connected'), 1)
    assert.equal(count(evs, 'device.connected'), 2)
    assert.deepEqual(
      await listEvents({ since: s.t0, connected_account_id: SEED.johnAccount }, s.ws.apiKey),
      [],
    )
  })

  it('connect_webview_id: the events of what that webview connected', async () => {
    const evs = await listEvents({ since: s.t0, connect_webview_id: s.connect_webview_id }, s.ws.apiKey)
    assert.equal(count(evs, 'connected_account.connected'), 1)
    assert.equal(count(evs, 'lock.unlocked'), 0, 'lock events are not the webview\'s')
    assert.deepEqual(await listEvents({ since: s.t0, connect_webview_id: SEED.webview1 }, s.ws.apiKey), [])
  })

  it('event_types', async () => {
    const unlocked = await listEvents({ since: s.t0, event_types: ['lock.unlocked'] }, s.ws.apiKey)
    assert.deepEqual(types(unlocked), ['lock.unlocked'])
    const both = await listEvents(
      { since: s.t0, event_types: ['lock.unlocked', 'lock.locked'] },
      s.ws.apiKey,
    )
    assert.deepEqual(types(both).sort(), ['lock.locked', 'lock.unlocked'])
    assertInvalidInput(
      await call(srv, '/events/list', {
        method: 'GET',
        token: s.ws.apiKey,
        query: { since: s.t0, event_types: ['lock.exploded'] },
      }),
      'event_types',
    )
  })

  it('filters combine', async () => {
    const evs = await listEvents(
      { since: s.t0, device_ids: [s.d1], event_types: ['lock.locked', 'device.connected'] },
      s.ws.apiKey,
    )
    assert.deepEqual(types(evs).sort(), ['device.connected', 'lock.locked'])
  })

  it('limit', async () => {
    const all = await listEvents({ since: s.t0 }, s.ws.apiKey)
    assert.ok(all.length >= 7)
    const two = await listEvents({ since: s.t0, limit: 2 }, s.ws.apiKey)
    assert.equal(two.length, 2)
    const allIds = all.map((e) => e.event_id)
    for (const e of two) assert.ok(allIds.includes(e.event_id))
  })

  it('through the SDK', async () => {
    const seam = sdkFromApiKey(srv, s.ws.apiKey)
    const evs = await seam.events.list({ since: s.t0, device_ids: [s.d1], event_types: ['lock.unlocked'] })
    assert.equal(evs.length, 1)
    assert.equal(evs[0].device_id, s.d1)
    const between = await seam.events.list({ between: [s.t1, s.t2] })
    assert.deepEqual(types(between).sort(), ['action_attempt.unlock_door.succeeded', 'lock.unlocked'])
  })
})

describe('events/get', () => {
  it('by event_id (GET and POST, SDK); unknown is 404 event_not_found', async () => {
    const s = await story()
    const [ev] = await listEvents({ since: s.t0, event_types: ['lock.unlocked'] }, s.ws.apiKey)
    const res = await getEventRaw(ev.event_id, s.ws.apiKey)
    const out = assertOk(res, 'event')
    assertResponseMatchesSchema('/events/get', out, 'get')
    assert.deepEqual(out.event, ev)
    const post = assertOk(await call(srv, '/events/get', { token: s.ws.apiKey, body: { event_id: ev.event_id } }))
    assertResponseMatchesSchema('/events/get', post)
    assert.deepEqual(post.event, ev)
    assert.deepEqual(await sdkFromApiKey(srv, s.ws.apiKey).events.get({ event_id: ev.event_id }), ev)
    assertError(await getEventRaw('00000000-0000-4000-8000-000000000000', s.ws.apiKey), 404, 'event_not_found')
  })
})

describe('scope', () => {
  it("a token sees its devices' events and not another session's", async () => {
    const s = await story()
    // Another user in the same workspace connects and acts.
    const other = assertOk(
      await call(srv, '/client_sessions/create', {
        token: s.ws.apiKey,
        body: { user_identifier_key: uniqueKey('ev_other') },
      }),
    ).client_session
    const o = await connectAccount(srv, other.token, { provider: 'schlage', username: LOGINS.john })
    const oDevices = assertOk(
      await call(srv, '/devices/list', { method: 'GET', token: other.token }),
    ).devices.map((d) => d.device_id)
    await act('unlock_door', oDevices[0], other.token)

    const mine = await listEvents({ since: s.t0 }, s.session.token)
    assert.ok(mine.length > 0)
    for (const e of mine) {
      if (e.device_id) assert.ok([s.d1, s.d2].includes(e.device_id), `foreign device event ${JSON.stringify(e)}`)
      if (e.connected_account_id) assert.equal(e.connected_account_id, s.connected_account_id)
    }
    assert.equal(count(mine, 'lock.unlocked'), 1)
    assert.equal(count(mine, 'lock.locked'), 1)
    // Filters naming the other's objects give nothing.
    assert.deepEqual(await listEvents({ since: s.t0, device_ids: [oDevices[0]] }, s.session.token), [])
    assert.deepEqual(await listEvents({ since: s.t0, device_ids: oDevices }, s.session.token), [])
    assert.deepEqual(
      await listEvents({ since: s.t0, connected_account_id: o.connected_account_id }, s.session.token),
      [],
    )
    // The other's event by id: 404; one's own: found.
    const [theirs] = await listEvents({ since: s.t0, device_ids: [oDevices[0]], event_types: ['lock.unlocked'] }, s.ws.apiKey)
    assert.ok(theirs)
    assertError(await getEventRaw(theirs.event_id, s.session.token), 404, 'event_not_found')
    const [own] = await listEvents({ since: s.t0, device_ids: [s.d1], event_types: ['lock.unlocked'] }, s.session.token)
    assert.equal(assertOk(await getEventRaw(own.event_id, s.session.token)).event.event_id, own.event_id)
    // The SDK with the token.
    const viaSdk = await sdkFromToken(srv, s.session.token).events.list({ since: s.t0 })
    assert.deepEqual(viaSdk.map((e) => e.event_id).sort(), mine.map((e) => e.event_id).sort())
  })

  it("another workspace's API key sees none of them", async () => {
    const s = await story()
    const evs = await listEvents({ since: s.t0 }, SEED.apiKey1)
    const theirIds = (await listEvents({ since: s.t0 }, s.ws.apiKey)).map((e) => e.event_id)
    for (const e of evs) assert.ok(!theirIds.includes(e.event_id))
    assert.deepEqual(await listEvents({ since: s.t0, device_ids: [s.d1] }, SEED.apiKey1), [])
    assertError(await getEventRaw(theirIds[0], SEED.apiKey1), 404, 'event_not_found')
    assertError(await getEventRaw(theirIds[0], SEED.cst1), 404, 'event_not_found')
  })
})

// Last, because a server that mishandles them may not survive them.
describe('the singular filters device_id and event_type', () => {
  let s
  before(async () => {
    s = await story()
  })

  it('device_id: the events of that device', async () => {
    const one = await listEvents({ since: s.t0, device_id: s.d1 }, s.ws.apiKey)
    for (const e of one) if (e.device_id !== undefined) assert.equal(e.device_id, s.d1)
    assert.equal(count(one, 'device.connected'), 1)
    assert.equal(count(one, 'lock.unlocked'), 1)
    assert.equal(count(one, 'lock.locked'), 1)
  })

  it('event_type: the events of that type; an unknown type is invalid_input', async () => {
    const unlocked = await listEvents({ since: s.t0, event_type: 'lock.unlocked' }, s.ws.apiKey)
    assert.deepEqual(types(unlocked), ['lock.unlocked'])
    assertInvalidInput(
      await call(srv, '/events/list', {
        method: 'GET',
        token: s.ws.apiKey,
        query: { since: s.t0, event_type: 'lock.exploded' },
      }),
      'event_type',
    )
  })

  it('device_id with event_type, through the SDK and with a token', async () => {
    const seam = sdkFromApiKey(srv, s.ws.apiKey)
    const evs = await seam.events.list({ since: s.t0, device_id: s.d1, event_type: 'lock.unlocked' })
    assert.equal(evs.length, 1)
    assert.equal(evs[0].device_id, s.d1)
    const mine = await listEvents({ since: s.t0, device_id: s.d2, event_type: 'device.connected' }, s.session.token)
    assert.equal(mine.length, 1)
  })
})
