// Live providers on several nodes of one database: one node at a time holds
// an account's broker connection (a lease in provider_links), a command
// accepted by any node reaches the device, and when the holding node dies
// another takes the account over within the lease time. Node A is killed
// first (holding or not); then B, which must be holding by then, is killed
// with C beside it.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'

import {
  SANITIZED,
  SEED,
  assertOk,
  call,
  makeDataDir,
  removeDir,
  sleep,
  sqlQuery,
  startServer,
  stopAll,
} from '../api/harness.mjs'
import { startBroker, startDevsim } from '../lib/devsim.mjs'
import { connectLive } from './live_flow.mjs'

const LEASE_MS = 3000
const TIMEOUT_MS = 5000
const ARGS = ['--link-lease-ms', String(LEASE_MS), '--command-timeout-ms', String(TIMEOUT_MS)]
const PASSWORD = `broker-${randomUUID()}`
const TAKEOVER_MS = LEASE_MS + 1000 + TIMEOUT_MS + (SANITIZED ? 20_000 : 5000)

/** Unlocks or locks through `node` and waits for the attempt's end. */
async function act(node, route, deviceId, ms) {
  const started = assertOk(
    await call(node, `/locks/${route}`, { token: SEED.apiKey1, body: { device_id: deviceId } }),
    'action_attempt',
  ).action_attempt
  const deadline = Date.now() + ms
  for (;;) {
    const aa = assertOk(
      await call(node, '/action_attempts/get', {
        token: SEED.apiKey1,
        body: { action_attempt_id: started.action_attempt_id },
      }),
      'action_attempt',
    ).action_attempt
    if (aa.status !== 'pending') return aa
    if (Date.now() > deadline) assert.fail(`${route} through ${node.url} still pending after ${ms} ms`)
    await sleep(100)
  }
}

describe('live providers on several nodes', () => {
  let broker, sim, a, b, c, deviceId
  const dir = makeDataDir() // the database's (SQLite) outlives node A
  before(async () => {
    broker = await startBroker({ user: 'latchkey', password: PASSWORD })
    sim = await startDevsim({ mqtt: broker.url, mqttUsername: 'latchkey', mqttPassword: PASSWORD, zigbeeLocks: 1 })
    a = await startServer({ args: ARGS, dataDir: dir })
    b = await startServer({ sharedWith: a, args: ARGS })
  })
  after(() =>
    stopAll(
      ...[c, b, a].map((node) => () => node?.kill()),
      () => sim?.stop(),
      () => broker?.stop(),
      () => removeDir(dir),
    ),
  )

  const simLock = async () => Object.values((await sim.control.state()).zigbee)[0]

  it('an account connected on one node is held by exactly one; commands through either reach the device', async () => {
    const account = await connectLive(a, SEED.apiKey1, 'zigbee2mqtt', {
      broker: broker.url,
      username: 'latchkey',
      password: PASSWORD,
      base_topic: 'zigbee2mqtt',
    })
    const devices = assertOk(
      await call(b, '/devices/list', {
        token: SEED.apiKey1,
        body: { connected_account_id: account.connected_account_id },
      }),
      'devices',
    ).devices
    assert.equal(devices.length, 1)
    deviceId = devices[0].device_id
    const held = async () =>
      String(
        await sqlQuery(
          a.dataDir,
          `SELECT COUNT(*) FROM provider_links WHERE owner IS NOT NULL AND connected_account_id = '${account.connected_account_id}'`,
        ),
      ).trim() === '1'
    const deadline = Date.now() + 5000
    while (!(await held())) {
      if (Date.now() > deadline) assert.fail('no node holds the account')
      await sleep(100)
    }
    for (const [node, route, locked] of [
      [a, 'unlock_door', false],
      [b, 'lock_door', true],
      [b, 'unlock_door', false],
      [a, 'lock_door', true],
    ]) {
      const aa = await act(node, route, deviceId, TIMEOUT_MS + 2000)
      assert.equal(aa.status, 'success', JSON.stringify(aa))
      assert.equal((await simLock()).locked, locked)
    }
  })

  it('when the holding node dies another takes the account over within the lease time', async () => {
    await a.kill() // holding or not: B holds from now on
    let aa = await act(b, 'unlock_door', deviceId, TAKEOVER_MS)
    assert.equal(aa.status, 'success', `${JSON.stringify(aa)}\n${b.stderr().split('\n').filter((l) => !/ (GET|POST) /.test(l)).join('\n')}\n${sim.log().slice(-3000)}`)
    c = await startServer({ sharedWith: b, args: ARGS })
    await b.kill() // the holder
    // Within the lease, a look of the links job (1 s), the connection and
    // the command itself (with room for a loaded machine).
    aa = await act(c, 'lock_door', deviceId, TAKEOVER_MS)
    assert.equal(aa.status, 'success', JSON.stringify(aa))
    assert.equal((await simLock()).locked, true)
  })
})
