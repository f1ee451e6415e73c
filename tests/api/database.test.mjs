// The database a node is pointed at: several nodes starting together on a
// fresh database migrate it once; a node refuses a schema newer than it
// knows, saying so; and on PostgreSQL, --database takes postgres:// and
// postgresql:// URLs while libpq's environment (PGPASSWORD, PGSSLMODE)
// applies as it does for any libpq program.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'

import {
  BACKEND,
  SEED,
  assertOk,
  call,
  databaseFor,
  makeDataDir,
  removeDir,
  sqlQuery,
  startServer,
  withDataDir,
  withServer,
} from './harness.mjs'

describe('migrations', () => {
  test('three nodes starting together on a fresh database migrate it once, and all serve', async () => {
    const first = makeDataDir()
    const dirs = [first, makeDataDir(), makeDataDir()]
    const secret = randomBytes(32).toString('hex')
    const { args, env } = await databaseFor(first)
    const nodes = []
    try {
      const started = await Promise.allSettled(
        dirs.map((dataDir) =>
          startServer({ dataDir, seed: false, args, env: { ...env, LATCHKEY_SECRET: secret } }),
        ),
      )
      for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value)
      for (const s of started) assert.equal(s.status, 'fulfilled', String(s.reason))
      for (const node of nodes) assert.equal((await fetch(`${node.url}/health`)).status, 200)
      const versions = await sqlQuery(first, 'SELECT version FROM schema_migrations ORDER BY version')
      const list = versions.split('\n').map(Number)
      assert.deepEqual(list, [...new Set(list)], 'each migration once')
      assert.ok(list.length >= 1)
    } finally {
      await Promise.all(nodes.map((n) => n.stop()))
      for (const d of dirs) removeDir(d)
    }
  })

  test('a node refuses a schema newer than it knows, and says so', async () => {
    await withDataDir(async (dataDir) => {
      await withServer({ dataDir }, async (server) => {
        assertOk(await call(server, '/workspaces/get', { method: 'GET', token: SEED.apiKey1 }))
      })
      await sqlQuery(dataDir, 'INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)')
      await assert.rejects(startServer({ dataDir, seed: false }), /schema is version 9999, newer than this latchkey knows/)
    })
  })
})

describe('queries with many values', () => {
  test('a filter of 1000 ids (the most a list may hold) is answered', async () => {
    await withServer({}, async (server) => {
      const ids = Array.from({ length: 999 }, (_, i) => `no_such_device_${i}`)
      ids.push('august_device_1')
      const res = await call(server, '/devices/list', { token: SEED.apiKey1, body: { device_ids: ids } })
      assert.deepEqual(assertOk(res, 'devices').devices.map((d) => d.device_id), ['august_device_1'])
    })
  })
})

describe('PostgreSQL connection settings', { skip: BACKEND !== 'postgres' && 'PostgreSQL only' }, () => {
  test('a postgresql:// URL works as postgres:// does', async () => {
    await withDataDir(async (dataDir) => {
      const { url, env } = await databaseFor(dataDir)
      const alias = url.replace(/^postgres:/, 'postgresql:')
      await withServer({ dataDir, args: ['--database', alias], env }, async (server) => {
        assertOk(await call(server, '/devices/list', { method: 'GET', token: SEED.cst1 }), 'devices')
      })
    })
  })

  test('PGPASSWORD and PGSSLMODE from the environment apply', async () => {
    await withDataDir(async (dataDir) => {
      const { url, env } = await databaseFor(dataDir)
      const args = ['--database', url]
      await assert.rejects(
        startServer({ dataDir, args, env: { ...env, PGPASSWORD: 'not-the-password' } }),
        /cannot connect to PostgreSQL: .*password authentication failed/,
      )
      // The test cluster speaks no TLS: requiring it must fail, and say why.
      await assert.rejects(
        startServer({ dataDir, args, env: { ...env, PGSSLMODE: 'require' } }),
        /cannot connect to PostgreSQL: .*SSL/,
      )
      await withServer({ dataDir, args, env: { ...env, PGSSLMODE: 'disable' } }, async (server) => {
        assertOk(await call(server, '/devices/list', { method: 'GET', token: SEED.cst1 }), 'devices')
      })
    })
  })
})
