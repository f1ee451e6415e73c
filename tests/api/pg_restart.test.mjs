// PostgreSQL restarted while requests flow: requests in flight may get a 503
// in the API's error shape, the node reconnects by itself (the first request
// on each of its connections after the restart succeeds), and no write it
// acknowledged is lost. On a private cluster, so that the test files running
// beside this one keep their database.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { BACKEND, SEED, assertError, assertOk, call, sleep, startPgCluster, startServer, uniqueKey } from './harness.mjs'

const skip = BACKEND !== 'postgres' && 'PostgreSQL only: this file runs in the postgres/ suite'

test('PostgreSQL restarts under load: 503s while it is away, no acknowledged write lost', { skip }, async () => {
  const cluster = await startPgCluster()
  let server
  try {
    server = await startServer({ cluster })
    const acknowledged = []
    const statuses = new Map()
    let stop = false
    // Eight clients writing (client sessions) and reading, back to back.
    const client = async (n) => {
      for (let i = 0; !stop; i++) {
        const key = uniqueKey(`restart${n}`)
        const res =
          i % 2
            ? await call(server, '/client_sessions/create', { token: SEED.apiKey1, body: { user_identifier_key: key } })
            : await call(server, '/devices/list', { method: 'GET', token: SEED.cst1 })
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
        if (res.status === 200) {
          if (i % 2) acknowledged.push(key)
        } else {
          assertError(res, 503, 'service_unavailable')
        }
      }
    }
    const clients = Array.from({ length: 8 }, (_, n) => client(n))
    await sleep(1000)
    await cluster.restart()
    await sleep(1000)
    stop = true
    await Promise.all(clients)

    // Back: every connection the node had was cut, and each of its worker
    // threads' first request after the restart succeeds.
    for (let round = 0; round < 3; round++) {
      const burst = await Promise.all(
        Array.from({ length: 32 }, () => call(server, '/devices/list', { method: 'GET', token: SEED.cst1 })),
      )
      for (const res of burst) assertOk(res, 'devices')
    }
    // Every write the node acknowledged is there.
    assert.ok(acknowledged.length > 10, `writes went through before and after (${acknowledged.length})`)
    for (const key of acknowledged) {
      const res = await call(server, '/client_sessions/get', { method: 'GET', token: SEED.apiKey1, query: { user_identifier_key: key } })
      assertOk(res, 'client_session')
    }
    assert.ok((statuses.get(200) ?? 0) > 0)
    console.log(`statuses: ${JSON.stringify([...statuses])}`)
  } finally {
    await server?.stop()
    await cluster.stop()
  }
})
