// Access codes through the SDK, the way an app hands out door codes: ongoing
// and time-bound codes set on the lock by the scheduler and removed at their
// end (short windows, polled with deadlines), a restart between create and
// start, code constraints, duplicates, the device's limit, an offline lock
// that gets its codes when it returns, update, delete, create_multiple and
// update_multiple, generate_code, the backup pool, unmanaged codes, events;
// every response valid against the OpenAPI; scope (another user's client
// session and another workspace's key see and change nothing).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import {
  SEED,
  assertResponseMatchesSchema,
  call,
  createSession,
  makeDataDir,
  removeDir,
  sdkFromApiKey,
  sdkFromToken,
  sdkRejects,
  sleep,
  startServer,
  useServer,
} from './harness.mjs'
import { LOGINS, connectAccount } from './webview_flow.mjs'

const DEADLINE_MS = 15_000

/** Polls fn until it returns a truthy value, or fails after DEADLINE_MS. */
async function waitFor(what, fn) {
  const until = Date.now() + DEADLINE_MS
  for (;;) {
    const value = await fn()
    if (value) return value
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

const iso = (ms) => new Date(ms).toISOString()

/** The code's status, or 'gone' once access_codes/get answers 404. */
async function statusOf(srv, id, token = SEED.apiKey1) {
  const res = await call(srv, '/access_codes/get', { token, body: { access_code_id: id } })
  if (res.status === 404) return 'gone'
  assert.equal(res.status, 200, res.text)
  return res.body.access_code.status
}

const waitStatus = (srv, id, status) =>
  waitFor(`access code ${id} ${status}`, async () => (await statusOf(srv, id)) === status)

/** The events of a code, oldest first, checked against the OpenAPI. */
async function codeEvents(srv, id) {
  const res = await call(srv, '/events/list', {
    token: SEED.apiKey1,
    body: { since: '2000-01-01T00:00:00Z', access_code_id: id },
  })
  assert.equal(res.status, 200, res.text)
  assertResponseMatchesSchema('/events/list', res.body)
  return res.body.events
}

describe('access codes', () => {
  const srv = useServer()

  it('an ongoing code: created, set on the lock, listed, found by its code', async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const code = await seam.accessCodes.create({ device_id: 'august_device_1', name: 'Cleaner', code: '4821' })
    assert.equal(code.type, 'ongoing')
    assert.equal(code.code, '4821')
    assert.ok(['setting', 'set'].includes(code.status))
    await waitStatus(srv, code.access_code_id, 'set')
    const listed = await seam.accessCodes.list({ device_id: 'august_device_1' })
    assert.ok(listed.some((c) => c.access_code_id === code.access_code_id))
    const byCode = await seam.accessCodes.get({ device_id: 'august_device_1', code: '4821' })
    assert.equal(byCode.access_code_id, code.access_code_id)
    for (const [route, body] of [
      ['/access_codes/get', { access_code_id: code.access_code_id }],
      ['/access_codes/list', { device_id: 'august_device_1' }],
      ['/access_codes/list', { access_code_ids: [code.access_code_id] }],
      ['/access_codes/generate_code', { device_id: 'august_device_1' }],
    ]) {
      const res = await call(srv, route, { token: SEED.apiKey1, body })
      assert.equal(res.status, 200, res.text)
      assertResponseMatchesSchema(route, res.body)
    }
    const types = (await codeEvents(srv, code.access_code_id)).map((e) => e.event_type)
    assert.deepEqual(types, ['access_code.created', 'access_code.set_on_device'])
    const set = (await codeEvents(srv, code.access_code_id))[1]
    assert.equal(set.code, '4821')
    // The lock says it takes codes, and what kind.
    const lock = await seam.devices.get({ device_id: 'august_device_1' })
    assert.ok(lock.capabilities_supported.includes('access_code'))
    assert.equal(lock.can_program_online_access_codes, true)
    assert.deepEqual(lock.properties.supported_code_lengths, [4, 5, 6, 7, 8])
    assert.equal(lock.properties.max_active_codes_supported, 250)
    const takers = await seam.devices.list({ include_if: ['can_program_online_access_codes'] })
    assert.deepEqual(takers.map((d) => d.device_id).sort(), ['august_device_1', 'august_device_2', 'schlage_device_id'])
  })

  it('a time-bound code is set at its start and removed at its end', async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    // Windows of seconds: long enough that a slow (sanitized) build still
    // answers the create before the start.
    const start = Date.now() + 3000
    const code = await seam.accessCodes.create({
      device_id: 'august_device_2',
      name: 'Guest',
      starts_at: iso(start),
      ends_at: iso(start + 1500),
    })
    assert.equal(code.type, 'time_bound')
    assert.equal(code.status, 'unset')
    assert.equal(code.pending_mutations[0].mutation_code, 'deferring_creation')
    assert.match(code.code, /^\d{4,8}$/)
    await waitStatus(srv, code.access_code_id, 'set')
    assert.ok(Date.now() >= start, 'set only once it started')
    await waitStatus(srv, code.access_code_id, 'gone')
    assert.ok(Date.now() >= start + 1500, 'removed only once it ended')
    const types = (await codeEvents(srv, code.access_code_id)).map((e) => e.event_type)
    assert.deepEqual(types, [
      'access_code.created',
      'access_code.set_on_device',
      'access_code.removed_from_device',
      'access_code.deleted',
    ])
  })

  it('refuses codes the lock cannot take, duplicates, and more codes than it holds', async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    await sdkRejects(seam.accessCodes.create({ device_id: 'august_device_1', code: '12' }), 400, 'invalid_input')
    await sdkRejects(seam.accessCodes.create({ device_id: 'august_device_1', code: '12ab' }), 400, 'invalid_input')
    await sdkRejects(
      seam.accessCodes.create({ device_id: 'schlage_device_id', code: '7777', name: 'Far too long a name' }),
      400,
      'invalid_input',
    )
    await seam.accessCodes.create({ device_id: 'august_device_1', code: '9090' })
    await sdkRejects(seam.accessCodes.create({ device_id: 'august_device_1', code: '9090' }), 409, 'duplicate_access_code')
    const start = Date.now() + 60_000
    await sdkRejects(
      seam.accessCodes.create({ device_id: 'august_device_1', starts_at: iso(start), ends_at: iso(start - 1000) }),
      400,
      'invalid_input',
    )
    await sdkRejects(seam.accessCodes.create({ device_id: 'ecobee_device_1', code: '1111' }), 404, 'device_not_found')
    // A nuki lock: six digits, no zeros, not starting with 12.
    const { connected_account_id: nuki } = await connectAccount(srv, SEED.apiKey1, {
      provider: 'nuki',
      username: LOGINS.jane,
    })
    const [nukiLock] = await seam.devices.list({ connected_account_id: nuki })
    assert.deepEqual(nukiLock.properties.supported_code_lengths, [6])
    for (const bad of ['1234', '123456', '405060'])
      await sdkRejects(seam.accessCodes.create({ device_id: nukiLock.device_id, code: bad }), 400, 'invalid_input')
    const generated = await seam.accessCodes.generateCode({ device_id: nukiLock.device_id })
    assert.match(generated.code, /^[1-9]{6}$/)
    assert.ok(!generated.code.startsWith('12'))
    const made = await seam.accessCodes.create({ device_id: nukiLock.device_id })
    assert.match(made.code, /^[1-9]{6}$/)
    // The schlage lock holds 20 codes.
    const schlage = await seam.devices.get({ device_id: 'schlage_device_id' })
    assert.equal(schlage.properties.max_active_codes_supported, 20)
    for (let i = 0; i < 20; i++)
      await seam.accessCodes.create({ device_id: 'schlage_device_id', code: String(5000 + i) })
    await sdkRejects(
      seam.accessCodes.create({ device_id: 'schlage_device_id', code: '6000' }),
      400,
      'no_space_for_access_code_on_device',
    )
  })

  it('an offline lock gets its codes when it returns', async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    await seam.devices.simulate.disconnect({ device_id: 'august_device_2' })
    await sdkRejects(
      seam.accessCodes.create({ device_id: 'august_device_2', code: '3141', attempt_for_offline_device: false }),
      400,
      'device_offline',
    )
    const code = await seam.accessCodes.create({ device_id: 'august_device_2', code: '3141' })
    const delayed = await waitFor('the delay warning', async () => {
      const c = await seam.accessCodes.get({ access_code_id: code.access_code_id })
      return c.warnings.some((w) => w.warning_code === 'delay_in_setting_on_device') && c
    })
    assert.equal(delayed.status, 'setting')
    assert.equal(delayed.errors[0].error_code, 'device_offline')
    const res = await call(srv, '/access_codes/get', { token: SEED.apiKey1, body: { access_code_id: code.access_code_id } })
    assertResponseMatchesSchema('/access_codes/get', res.body)
    await seam.devices.simulate.connect({ device_id: 'august_device_2' })
    await waitStatus(srv, code.access_code_id, 'set')
    const back = await seam.accessCodes.get({ access_code_id: code.access_code_id })
    assert.deepEqual([back.errors, back.warnings], [[], []])
    const types = (await codeEvents(srv, code.access_code_id)).map((e) => e.event_type)
    assert.deepEqual(types, [
      'access_code.created',
      'access_code.delay_in_setting_on_device',
      'access_code.set_on_device',
    ])
  })

  it('update, delete, and their action attempts', async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const code = await seam.accessCodes.create({ device_id: 'august_device_1', code: '2468', name: 'Dog walker' })
    await waitStatus(srv, code.access_code_id, 'set')
    const updated = await call(srv, '/access_codes/update', {
      method: 'PATCH',
      token: SEED.apiKey1,
      body: { access_code_id: code.access_code_id, code: '8642', name: 'Dog sitter' },
    })
    assert.equal(updated.status, 200, updated.text)
    assertResponseMatchesSchema('/access_codes/update', updated.body, 'patch')
    assert.equal(updated.body.action_attempt.action_type, 'UPDATE_ACCESS_CODE')
    await waitStatus(srv, code.access_code_id, 'set')
    const now = await seam.accessCodes.get({ access_code_id: code.access_code_id })
    assert.deepEqual([now.code, now.name], ['8642', 'Dog sitter'])
    // Moved to start later: off the lock until then.
    const later = Date.now() + 3_600_000
    await seam.accessCodes.update({ access_code_id: code.access_code_id, starts_at: iso(later), ends_at: iso(later + 60_000) })
    await waitStatus(srv, code.access_code_id, 'unset')
    // Back to ongoing.
    await seam.accessCodes.update({ access_code_id: code.access_code_id, type: 'ongoing' })
    await waitStatus(srv, code.access_code_id, 'set')
    await sdkRejects(seam.accessCodes.update({ access_code_id: code.access_code_id, code: 'x1' }), 400, 'invalid_input')
    const deleted = await call(srv, '/access_codes/delete', {
      method: 'DELETE',
      token: SEED.apiKey1,
      query: { access_code_id: code.access_code_id },
    })
    assert.equal(deleted.status, 200, deleted.text)
    assertResponseMatchesSchema('/access_codes/delete', deleted.body, 'delete')
    assert.equal(deleted.body.action_attempt.action_type, 'DELETE_ACCESS_CODE')
    await waitStatus(srv, code.access_code_id, 'gone')
    const types = (await codeEvents(srv, code.access_code_id)).map((e) => e.event_type)
    assert.ok(types.includes('access_code.changed'))
    assert.deepEqual(types.slice(-2), ['access_code.removed_from_device', 'access_code.deleted'])
  })

  it('create_multiple shares one code across locks; update_multiple changes them all', async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const res = await call(srv, '/access_codes/create_multiple', {
      token: SEED.apiKey1,
      body: { device_ids: ['august_device_1', 'august_device_2'], name: 'Family' },
    })
    assert.equal(res.status, 200, res.text)
    assertResponseMatchesSchema('/access_codes/create_multiple', res.body)
    const [a, b] = res.body.access_codes
    assert.equal(a.code, b.code)
    assert.ok(a.common_code_key)
    assert.equal(a.common_code_key, b.common_code_key)
    const start = Date.now() + 3_600_000
    await seam.accessCodes.updateMultiple({
      common_code_key: a.common_code_key,
      name: 'Family (summer)',
      starts_at: iso(start),
      ends_at: iso(start + 86_400_000),
    })
    for (const c of [a, b]) {
      const now = await seam.accessCodes.get({ access_code_id: c.access_code_id })
      assert.equal(now.name, 'Family (summer)')
      assert.equal(now.type, 'time_bound')
    }
    await sdkRejects(seam.accessCodes.updateMultiple({ common_code_key: 'nope', name: 'x' }), 404, 'access_code_not_found')
    // All or none: the code taken on the second lock, nothing on the first.
    await seam.accessCodes.create({ device_id: 'august_device_2', code: '7311' })
    await sdkRejects(
      seam.accessCodes.createMultiple({ device_ids: ['august_device_1', 'august_device_2'], code: '7311' }),
      409,
      'duplicate_access_code',
    )
    await sdkRejects(seam.accessCodes.get({ device_id: 'august_device_1', code: '7311' }), 404, 'access_code_not_found')
  })

  it('the backup pool gives a time-bound code a spare code', async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const start = Date.now()
    const code = await seam.accessCodes.create({
      device_id: 'august_device_1',
      code: '1357',
      starts_at: iso(start),
      ends_at: iso(start + 3_600_000),
      use_backup_access_code_pool: true,
    })
    assert.equal(code.is_backup_access_code_available, true)
    const pulled = await waitFor('a spare code on the lock', async () => {
      const res = await call(srv, '/access_codes/pull_backup_access_code', {
        token: SEED.apiKey1,
        body: { access_code_id: code.access_code_id },
      })
      return res.status === 200 && res.body
    })
    assertResponseMatchesSchema('/access_codes/pull_backup_access_code', pulled)
    assert.equal(pulled.backup_access_code.is_backup, true)
    assert.notEqual(pulled.backup_access_code.code, '1357')
    assert.equal(pulled.access_code.pulled_backup_access_code_id, pulled.backup_access_code.access_code_id)
    assert.equal(pulled.backup_access_code.ends_at, pulled.access_code.ends_at)
    const again = await seam.accessCodes.pullBackupAccessCode({ access_code_id: code.access_code_id })
    assert.equal(again.access_code_id, code.access_code_id)
    const events = await codeEvents(srv, code.access_code_id)
    const pull = events.find((e) => e.event_type === 'access_code.backup_access_code_pulled')
    assert.equal(pull.backup_access_code_id, pulled.backup_access_code.access_code_id)
    // Turned off with devices/update: no new codes use it, its spares leave the lock.
    await seam.devices.update({ device_id: 'august_device_1', backup_access_code_pool_enabled: false })
    const off = await seam.devices.get({ device_id: 'august_device_1' })
    assert.equal(off.properties.backup_access_code_pool_enabled, false)
    await sdkRejects(
      seam.accessCodes.create({
        device_id: 'august_device_1',
        starts_at: iso(start),
        ends_at: iso(start + 3_600_000),
        use_backup_access_code_pool: true,
      }),
      400,
      'invalid_input',
    )
    await seam.devices.update({ device_id: 'august_device_1', backup_access_code_pool_enabled: true })
    await sdkRejects(
      seam.devices.update({ device_id: 'schlage_device_id', backup_access_code_pool_enabled: true }),
      400,
      'invalid_input',
    )
    // The schlage lock has no pool.
    await sdkRejects(
      seam.accessCodes.create({
        device_id: 'schlage_device_id',
        starts_at: iso(start),
        ends_at: iso(start + 60_000),
        use_backup_access_code_pool: true,
      }),
      400,
      'invalid_input',
    )
  })

  it('unmanaged codes: found on the lock, converted to managed, deleted', async () => {
    const seam = sdkFromApiKey(srv, SEED.apiKey1)
    const made = await call(srv, '/access_codes/simulate/create_unmanaged_access_code', {
      token: SEED.apiKey1,
      body: { device_id: 'august_device_2', name: 'Old tenant', code: '1010' },
    })
    assert.equal(made.status, 200, made.text)
    const unmanaged = made.body.access_code
    assert.equal(unmanaged.is_managed, false)
    const listed = await call(srv, '/access_codes/unmanaged/list', { token: SEED.apiKey1, body: { device_id: 'august_device_2' } })
    assertResponseMatchesSchema('/access_codes/unmanaged/list', listed.body)
    assert.ok(listed.body.access_codes.some((c) => c.access_code_id === unmanaged.access_code_id))
    const got = await call(srv, '/access_codes/unmanaged/get', { token: SEED.apiKey1, body: { access_code_id: unmanaged.access_code_id } })
    assertResponseMatchesSchema('/access_codes/unmanaged/get', got.body)
    assert.ok(!(await seam.accessCodes.list({ device_id: 'august_device_2' })).some((c) => c.access_code_id === unmanaged.access_code_id))
    await seam.accessCodes.unmanaged.convertToManaged({ access_code_id: unmanaged.access_code_id })
    const managed = await seam.accessCodes.get({ access_code_id: unmanaged.access_code_id })
    assert.equal(managed.is_managed, true)
    assert.equal(managed.status, 'set')
    // And back: update is_managed false.
    await seam.accessCodes.update({ access_code_id: unmanaged.access_code_id, is_managed: false })
    await seam.accessCodes.unmanaged.get({ access_code_id: unmanaged.access_code_id })
    await seam.accessCodes.unmanaged.delete({ access_code_id: unmanaged.access_code_id })
    await waitFor('the unmanaged code removed', async () => {
      const res = await call(srv, '/access_codes/unmanaged/get', { token: SEED.apiKey1, body: { access_code_id: unmanaged.access_code_id } })
      return res.status === 404
    })
    const types = (await codeEvents(srv, unmanaged.access_code_id)).map((e) => e.event_type)
    assert.deepEqual(types, [
      'access_code.unmanaged.created',
      'access_code.unmanaged.converted_to_managed',
      'access_code.changed',
      'access_code.unmanaged.removed',
    ])
    // Not on another workspace's lock.
    const refused = await call(srv, '/access_codes/simulate/create_unmanaged_access_code', {
      token: SEED.apiKey2,
      body: { device_id: 'august_device_2', name: 'x', code: '2020' },
    })
    assert.equal(refused.status, 404, refused.text)
  })
})

describe('access codes: every answer matches the OpenAPI', () => {
  const srv = useServer()

  it('create, update_multiple, the unmanaged routes and the sandbox simulations', async () => {
    const checked = async (route, body, method = 'post') => {
      const res = await call(srv, route, { method: method.toUpperCase(), token: SEED.apiKey1, body })
      assert.equal(res.status, 200, `${route}: ${res.text}`)
      assertResponseMatchesSchema(route, res.body, method)
      return res.body
    }
    const start = Date.now() + 3_600_000
    const created = await checked('/access_codes/create', {
      device_id: 'august_device_1',
      name: 'Checked',
      starts_at: iso(start),
      ends_at: iso(start + 60_000),
    })
    await checked('/access_codes/create', { device_id: 'august_device_2', code: '24680' })
    const multiple = await checked('/access_codes/create_multiple', { device_ids: ['august_device_1', 'august_device_2'] })
    await checked(
      '/access_codes/update_multiple',
      { common_code_key: multiple.access_codes[0].common_code_key, name: 'Both' },
      'patch',
    )
    await checked('/access_codes/update', { access_code_id: created.access_code.access_code_id, name: 'Put' }, 'put')
    const unmanaged = []
    for (const code of ['11223', '33445', '55667']) {
      const made = await checked('/access_codes/simulate/create_unmanaged_access_code', {
        device_id: 'august_device_1',
        name: `Found ${code}`,
        code,
      })
      unmanaged.push(made.access_code.access_code_id)
    }
    await checked('/access_codes/unmanaged/convert_to_managed', { access_code_id: unmanaged[0] }, 'patch')
    await checked('/access_codes/unmanaged/update', { access_code_id: unmanaged[1], is_managed: true }, 'patch')
    await checked('/access_codes/unmanaged/delete', { access_code_id: unmanaged[2] })
    await checked('/devices/simulate/disconnect', { device_id: 'august_device_2' })
    await checked('/devices/simulate/connect', { device_id: 'august_device_2' })
  })
})

describe('access codes: scope', () => {
  const srv = useServer()

  it('a client session sees and manages only the codes on its own devices', async () => {
    const admin = sdkFromApiKey(srv, SEED.apiKey1)
    const johns = await admin.accessCodes.create({ device_id: 'august_device_1', code: '1122' })
    const janes = await admin.accessCodes.create({ device_id: 'schlage_device_id', code: '3344' })
    const john = sdkFromToken(srv, SEED.cst1)
    const mine = await john.accessCodes.create({ device_id: 'august_device_2', code: '5566' })
    const all = await call(srv, '/access_codes/list', { token: SEED.cst1, body: {} })
    assert.equal(all.status, 200, all.text)
    const seen = all.body.access_codes.map((c) => c.access_code_id)
    assert.ok(seen.includes(johns.access_code_id) && seen.includes(mine.access_code_id))
    assert.ok(!seen.includes(janes.access_code_id), "another user's code")
    const jane = await createSession(srv, SEED.apiKey1, { connected_account_ids: [SEED.janeAccount] })
    const outsiders = [
      ['another user', jane.token],
      ['another workspace', SEED.apiKey2],
    ]
    for (const [who, token] of outsiders) {
      const codeId = johns.access_code_id
      const attempts = [
        ['/access_codes/get', { access_code_id: codeId }],
        ['/access_codes/get', { device_id: 'august_device_1', code: '1122' }],
        ['/access_codes/list', { device_id: 'august_device_1' }],
        ['/access_codes/update', { access_code_id: codeId, name: 'mine now' }],
        ['/access_codes/delete', { access_code_id: codeId }],
        ['/access_codes/pull_backup_access_code', { access_code_id: codeId }],
        ['/access_codes/create', { device_id: 'august_device_1', code: '7788' }],
        ['/access_codes/create_multiple', { device_ids: ['august_device_1'] }],
        ['/access_codes/generate_code', { device_id: 'august_device_1' }],
        ['/access_codes/unmanaged/list', { device_id: 'august_device_1' }],
        ['/access_codes/unmanaged/get', { access_code_id: codeId }],
        ['/access_codes/unmanaged/convert_to_managed', { access_code_id: codeId }],
        ['/access_codes/unmanaged/delete', { access_code_id: codeId }],
      ]
      for (const [route, body] of attempts) {
        const res = await call(srv, route, { token, body })
        assert.equal(res.status, 404, `${who}: ${route} ${res.text}`)
      }
      const listed = await call(srv, '/access_codes/list', { token, body: {} })
      assert.equal(listed.status, 200, listed.text)
      assert.ok(!listed.body.access_codes.some((c) => c.access_code_id === codeId), `${who} lists john's code`)
      const updateMultiple = await call(srv, '/access_codes/update_multiple', {
        token,
        body: { common_code_key: 'any', name: 'x' },
      })
      assert.equal(updateMultiple.status, 404, `${who}: update_multiple`)
    }
    // Nothing changed: john's code is as it was.
    const still = await admin.accessCodes.get({ access_code_id: johns.access_code_id })
    assert.equal(still.name, null)
    assert.equal(still.code, '1122')
    // user_identifier_key narrows an API key's list to that user's codes.
    const narrowed = await admin.accessCodes.list({ user_identifier_key: SEED.johnKey })
    assert.ok(!narrowed.some((c) => c.access_code_id === janes.access_code_id))
    assert.ok(narrowed.some((c) => c.access_code_id === johns.access_code_id))
    // A client session cannot simulate.
    const simulated = await call(srv, '/access_codes/simulate/create_unmanaged_access_code', {
      token: SEED.cst1,
      body: { device_id: 'august_device_1', name: 'x', code: '9999' },
    })
    assert.equal(simulated.status, 403, simulated.text)
  })
})

describe('access codes: a restart between create and start', () => {
  let dataDir
  before(() => {
    dataDir = makeDataDir()
  })
  after(() => removeDir(dataDir))

  it('the restarted server still sets the code at its start and removes it at its end', async () => {
    let server = await startServer({ dataDir, seed: true })
    let id
    // Far enough ahead that the server is down before the start.
    const start = Date.now() + 8000
    try {
      const code = await sdkFromApiKey(server, SEED.apiKey1).accessCodes.create({
        device_id: 'august_device_1',
        starts_at: iso(start),
        ends_at: iso(start + 1500),
      })
      id = code.access_code_id
      assert.equal(code.status, 'unset')
    } finally {
      await server.stop()
    }
    assert.ok(Date.now() < start, 'stopped before the start')
    server = await startServer({ dataDir, seed: false })
    try {
      await waitStatus(server, id, 'set')
      assert.ok(Date.now() >= start)
      await waitStatus(server, id, 'gone')
      const types = (await codeEvents(server, id)).map((e) => e.event_type)
      assert.deepEqual(types, [
        'access_code.created',
        'access_code.set_on_device',
        'access_code.removed_from_device',
        'access_code.deleted',
      ])
    } finally {
      await server.stop()
    }
  })
})
