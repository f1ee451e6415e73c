// Unmanaged devices through the SDK: devices/update with is_managed false
// takes a device out of devices/list and get, locks, access codes (its codes
// too), lock actions and the client session's device_count, and shows it in
// devices/unmanaged/list and get (valid unmanaged_device objects) until
// devices/unmanaged/update with is_managed true makes it managed again; the
// events of both conversions; its codes keep their schedule; a sandbox
// re-connect of its account leaves it unmanaged, deleting the account
// removes it with an event; scope (another user's
// client session and another workspace's key neither see nor change it).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import {
  JOHN_DEVICES,
  SEED,
  assertError,
  assertInvalidInput,
  assertResponseMatchesSchema,
  call,
  createSession,
  sdkFromApiKey,
  sdkFromToken,
  sdkRejects,
  sleep,
  useServer,
} from './harness.mjs'
import { LOGINS, accountDevices, connectAccount } from './webview_flow.mjs'

const srv = useServer()
const AK1 = SEED.apiKey1
const DEVICE = JOHN_DEVICES[0] // august_device_1, a lock that takes codes
const EPOCH = '2000-01-01T00:00:00.000Z'

const seam = () => sdkFromApiKey(srv, AK1)
const johns = () => sdkFromToken(srv, SEED.cst1)
const ids = (devices) => devices.map((d) => d.device_id)

const unmanage = (device_id) => seam().devices.update({ device_id, is_managed: false })
const manage = (device_id) => seam().devices.unmanaged.update({ device_id, is_managed: true })

/** The device's events of `type`. */
async function eventsOf(device_id, type) {
  const events = await seam().events.list({ device_id, since: EPOCH })
  return events.filter((e) => e.event_type === type)
}

/** john's session's device_count. */
const johnsDeviceCount = async () =>
  (await seam().clientSessions.get({ client_session_id: SEED.session1 })).device_count

/** The raw answer of a route, checked against its OpenAPI response. */
async function checked(route, token, body) {
  const res = await call(srv, route, { token, body })
  assert.equal(res.status, 200, res.text)
  assertResponseMatchesSchema(route, res.body)
  return res.body
}

describe('devices/update is_managed', () => {
  it('true on a managed device changes nothing', async () => {
    await seam().devices.update({ device_id: DEVICE, is_managed: true })
    assert.ok(ids(await seam().devices.list()).includes(DEVICE))
    assert.deepEqual(await eventsOf(DEVICE, 'device.converted_to_unmanaged'), [])
  })

  it('is a boolean', async () => {
    const res = await call(srv, '/devices/update', { token: AK1, body: { device_id: DEVICE, is_managed: 'no' } })
    assertInvalidInput(res, 'is_managed')
  })
})

describe('an unmanaged device', () => {
  let code
  let countBefore

  before(async () => {
    code = (await seam().accessCodes.create({ device_id: DEVICE, code: '482913', name: 'Before' })).access_code_id
    countBefore = await johnsDeviceCount()
    await unmanage(DEVICE)
  })

  after(async () => {
    await manage(DEVICE).catch(() => {})
  })

  it('is gone from devices/list and devices/get, for the API key and the token', async () => {
    assert.ok(!ids(await seam().devices.list()).includes(DEVICE))
    assert.ok(!ids(await johns().devices.list()).includes(DEVICE))
    await sdkRejects(seam().devices.get({ device_id: DEVICE }), 404, 'device_not_found')
    await sdkRejects(johns().devices.get({ device_id: DEVICE }), 404, 'device_not_found')
  })

  it('is gone from locks, and cannot be locked', async () => {
    assert.ok(!ids(await seam().locks.list()).includes(DEVICE))
    await sdkRejects(seam().locks.get({ device_id: DEVICE }), 404, 'device_not_found')
    await sdkRejects(seam().locks.lockDoor({ device_id: DEVICE }), 404, 'device_not_found')
    await sdkRejects(johns().locks.unlockDoor({ device_id: DEVICE }), 404, 'device_not_found')
  })

  it('takes no access codes, and its codes are out of sight', async () => {
    await sdkRejects(seam().accessCodes.create({ device_id: DEVICE, code: '573920' }), 404, 'device_not_found')
    await sdkRejects(seam().accessCodes.list({ device_id: DEVICE }), 404, 'device_not_found')
    await sdkRejects(seam().accessCodes.get({ access_code_id: code }), 404, 'access_code_not_found')
    assert.ok(!(await seam().accessCodes.list({ access_code_ids: [code] })).some((c) => c.access_code_id === code))
    const all = await checked('/access_codes/list', SEED.cst1, {})
    assert.ok(!all.access_codes.some((c) => c.access_code_id === code))
  })

  it("no longer counts in the client session's device_count", async () => {
    assert.equal(await johnsDeviceCount(), countBefore - 1)
    const own = await johns().clientSessions.get()
    assert.equal(own.device_count, countBefore - 1)
  })

  it('is in devices/unmanaged/list and get, as the OpenAPI describes it', async () => {
    const listed = await checked('/devices/unmanaged/list', AK1, {})
    assert.deepEqual(ids(listed.devices), [DEVICE])
    const [d] = listed.devices
    assert.equal(d.is_managed, false)
    assert.equal(d.device_type, 'august_lock')
    assert.equal(d.connected_account_id, SEED.johnAccount)
    assert.equal(d.properties.name, 'Fake August Lock 1')
    const got = await checked('/devices/unmanaged/get', AK1, { device_id: DEVICE })
    assert.deepEqual(got.device, d)
    const byName = await seam().devices.unmanaged.get({ name: 'Fake August Lock 1' })
    assert.equal(byName.device_id, DEVICE)
    assert.deepEqual(ids(await johns().devices.unmanaged.list()), [DEVICE])
    assert.equal((await johns().devices.unmanaged.get({ device_id: DEVICE })).device_id, DEVICE)
  })

  it('devices/unmanaged/list takes the devices/list filters', async () => {
    const list = async (params) => ids(await seam().devices.unmanaged.list(params))
    assert.deepEqual(await list({ device_type: 'august_lock' }), [DEVICE])
    assert.deepEqual(await list({ device_types: ['schlage_lock'] }), [])
    assert.deepEqual(await list({ connected_account_id: SEED.janeAccount }), [])
    assert.deepEqual(await list({ device_ids: [DEVICE, JOHN_DEVICES[1]] }), [DEVICE])
    assert.deepEqual(await list({ user_identifier_key: SEED.johnKey }), [DEVICE])
    assert.deepEqual(await list({ user_identifier_key: 'nobody' }), [])
    assert.deepEqual(await list({ search: 'August Lock 1' }), [DEVICE])
    const res = await call(srv, '/devices/unmanaged/list', { token: AK1, body: { device_type: 'not_a_type' } })
    assertInvalidInput(res, 'device_type')
  })

  it('the managed routes still answer for the others', async () => {
    assert.ok(ids(await seam().devices.unmanaged.list()).every((id) => id === DEVICE))
    await sdkRejects(seam().devices.unmanaged.get({ device_id: JOHN_DEVICES[1] }), 404, 'device_not_found')
  })

  it('records device.converted_to_unmanaged', async () => {
    const [ev] = await eventsOf(DEVICE, 'device.converted_to_unmanaged')
    assert.ok(ev, 'the event')
    assert.equal(ev.connected_account_id, SEED.johnAccount)
  })

  it('devices/unmanaged/update takes custom_metadata and leaves it unmanaged', async () => {
    await seam().devices.unmanaged.update({ device_id: DEVICE, custom_metadata: { floor: '2' } })
    const d = await seam().devices.unmanaged.get({ device_id: DEVICE })
    assert.deepEqual(d.custom_metadata, { floor: '2' })
    await sdkRejects(seam().devices.get({ device_id: DEVICE }), 404, 'device_not_found')
  })

  it('devices/unmanaged/update takes is_managed true only, and no name', async () => {
    const update = (body) =>
      call(srv, '/devices/unmanaged/update', { token: AK1, body: { device_id: DEVICE, ...body } })
    assertInvalidInput(await update({ is_managed: false }), 'is_managed')
    assertInvalidInput(await update({ name: 'Renamed' }), 'name')
    await seam().devices.unmanaged.get({ device_id: DEVICE })
  })

  it('devices/update and devices/delete do not find it', async () => {
    await sdkRejects(seam().devices.update({ device_id: DEVICE, name: 'x' }), 404, 'device_not_found')
    await sdkRejects(seam().devices.update({ device_id: DEVICE, is_managed: false }), 404, 'device_not_found')
    const deleted = await call(srv, '/devices/delete', { token: AK1, body: { device_id: DEVICE } })
    assertError(deleted, 404, 'device_not_found')
  })
})

describe('made managed again', () => {
  before(async () => {
    await unmanage(DEVICE)
    await manage(DEVICE)
  })

  it('is back everywhere, with its codes, and gone from the unmanaged routes', async () => {
    assert.ok(ids(await seam().devices.list()).includes(DEVICE))
    assert.ok(ids(await johns().locks.list()).includes(DEVICE))
    const d = await seam().devices.get({ device_id: DEVICE })
    assert.equal(d.is_managed, true)
    assert.deepEqual(d.custom_metadata, { floor: '2' })
    assert.ok((await seam().accessCodes.list({ device_id: DEVICE })).some((c) => c.name === 'Before'))
    assert.deepEqual(ids(await seam().devices.unmanaged.list()), [])
    await sdkRejects(seam().devices.unmanaged.get({ device_id: DEVICE }), 404, 'device_not_found')
    await sdkRejects(manage(DEVICE), 404, 'device_not_found')
  })

  it('counts in the device_count again', async () => {
    assert.equal((await johns().clientSessions.get()).device_count, JOHN_DEVICES.length)
  })

  it('records device.unmanaged.converted_to_managed', async () => {
    const [ev] = await eventsOf(DEVICE, 'device.unmanaged.converted_to_managed')
    assert.ok(ev, 'the event')
    assert.equal(ev.connected_account_id, SEED.johnAccount)
  })

  it('a lock action works again', async () => {
    const attempt = await seam().locks.lockDoor(
      { device_id: DEVICE },
      { waitForActionAttempt: { pollingInterval: 100, timeout: 10_000 } },
    )
    assert.equal(attempt.status, 'success')
  })
})

describe('the access codes of an unmanaged device', () => {
  it('keep their schedule: a code whose time is up leaves the lock', async () => {
    const device_id = JOHN_DEVICES[1]
    const now = Date.now()
    const { access_code_id } = await seam().accessCodes.create({
      device_id,
      code: '618204',
      starts_at: new Date(now).toISOString(),
      ends_at: new Date(now + 1500).toISOString(),
    })
    await unmanage(device_id)
    const types = async () =>
      (await seam().events.list({ access_code_id, since: EPOCH })).map((e) => e.event_type)
    const deadline = Date.now() + 15_000
    try {
      while (!(await types()).includes('access_code.deleted')) {
        assert.ok(Date.now() < deadline, `the code's events: ${(await types()).join()}`)
        await sleep(100)
      }
    } finally {
      await manage(device_id)
    }
    assert.ok(Date.now() >= now + 1500, 'removed only once it ended')
    assert.ok((await types()).includes('access_code.removed_from_device'))
    await sdkRejects(seam().accessCodes.get({ access_code_id }), 404, 'access_code_not_found')
  })
})

describe('a sandbox re-connect of the account', () => {
  it('leaves the device unmanaged, with the same id', async () => {
    const login = { provider: 'schlage', username: LOGINS.offline }
    const { connected_account_id: account } = await connectAccount(srv, AK1, login)
    const [first] = await accountDevices(srv, AK1, account)
    await unmanage(first.device_id)
    const again = await connectAccount(srv, AK1, login)
    assert.equal(again.connected_account_id, account)
    const d = await seam().devices.unmanaged.get({ device_id: first.device_id })
    assert.equal(d.is_managed, false)
    assert.ok(!ids(await accountDevices(srv, AK1, account)).includes(first.device_id))
    await manage(first.device_id)
  })
})

describe('deleting the account of an unmanaged device', () => {
  it('records device.removed for it as for the others', async () => {
    const { connected_account_id } = await connectAccount(srv, AK1, { provider: 'august', username: LOGINS.offline })
    const [first, second] = await accountDevices(srv, AK1, connected_account_id)
    await unmanage(first.device_id)
    await seam().connectedAccounts.delete({ connected_account_id })
    for (const { device_id } of [first, second]) assert.equal((await eventsOf(device_id, 'device.removed')).length, 1)
    await sdkRejects(seam().devices.unmanaged.get({ device_id: first.device_id }), 404, 'device_not_found')
  })
})

describe('scope', () => {
  let jane // another user of workspace 1, holding jane's account

  before(async () => {
    jane = await createSession(srv, AK1, { connected_account_ids: [SEED.janeAccount] }, { label: 'jane' })
    await unmanage(DEVICE)
  })

  after(async () => {
    await manage(DEVICE).catch(() => {})
  })

  it("another user's client session token does not see it", async () => {
    const other = sdkFromToken(srv, jane.token)
    await sdkRejects(other.devices.unmanaged.get({ device_id: DEVICE }), 404, 'device_not_found')
    assert.deepEqual(ids(await other.devices.unmanaged.list()), [])
    assert.deepEqual(ids(await seam().devices.unmanaged.list({ user_identifier_key: jane.user_identifier_key })), [])
  })

  it("another workspace's API key neither sees nor changes it", async () => {
    const foreign = sdkFromApiKey(srv, SEED.apiKey2)
    await sdkRejects(foreign.devices.unmanaged.get({ device_id: DEVICE }), 404, 'device_not_found')
    await sdkRejects(foreign.devices.unmanaged.update({ device_id: DEVICE, is_managed: true }), 404, 'device_not_found')
    assert.deepEqual(ids(await foreign.devices.unmanaged.list()), [])
    await seam().devices.unmanaged.get({ device_id: DEVICE })
  })

  it('a client session token may not make it managed, and may not unmanage what it does not hold', async () => {
    const res = await call(srv, '/devices/unmanaged/update', {
      token: SEED.cst1,
      body: { device_id: DEVICE, is_managed: true },
    })
    assertError(res, 403, 'forbidden')
    const other = sdkFromToken(srv, jane.token)
    const unmanageOther = { device_id: JOHN_DEVICES[1], is_managed: false }
    await sdkRejects(other.devices.update(unmanageOther), 404, 'device_not_found')
    await sdkRejects(sdkFromApiKey(srv, SEED.apiKey2).devices.update(unmanageOther), 404, 'device_not_found')
    assert.ok(ids(await seam().devices.list()).includes(JOHN_DEVICES[1]))
    await seam().devices.unmanaged.get({ device_id: DEVICE })
  })

  it("john's token unmanages his own device, and sees it among his unmanaged ones only", async () => {
    await johns().devices.update({ device_id: JOHN_DEVICES[1], is_managed: false })
    assert.deepEqual(ids(await johns().devices.unmanaged.list()).sort(), [DEVICE, JOHN_DEVICES[1]].sort())
    assert.deepEqual(ids(await sdkFromToken(srv, jane.token).devices.unmanaged.list()), [])
    await manage(JOHN_DEVICES[1])
  })
})
