// The server secret: it keys token lookups and seals client session tokens,
// lives outside the database (LATCHKEY_SECRET or <data-dir>/secret.key, mode
// 0600), and without it the database alone authenticates no one.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { SEED, call, startServer, withDataDir } from './harness.mjs'

const devicesWith = (srv, token) => call(srv, '/devices/list', { token })

describe('server secret', () => {
  it('is created in the data dir with mode 0600 and kept across restarts', async () => {
    await withDataDir(async (dataDir) => {
      const first = await startServer({ dataDir })
      const file = path.join(dataDir, 'secret.key')
      const secret = fs.readFileSync(file, 'utf8')
      assert.match(secret, /^[0-9a-f]{64}\n$/)
      assert.equal(fs.statSync(file).mode & 0o777, 0o600)
      await first.stop()

      const second = await startServer({ dataDir })
      assert.equal(fs.readFileSync(file, 'utf8'), secret)
      assert.equal((await devicesWith(second, SEED.cst1)).status, 200)
      await second.stop()
    })
  })

  it('comes from LATCHKEY_SECRET without a file; another secret authenticates no one', async () => {
    await withDataDir(async (dataDir) => {
      const env = { LATCHKEY_SECRET: randomBytes(32).toString('hex') }
      const first = await startServer({ dataDir, env })
      assert.equal(fs.existsSync(path.join(dataDir, 'secret.key')), false)
      const created = await call(first, '/client_sessions/create', {
        token: SEED.apiKey1,
        body: { user_identifier_key: 'secret_user' },
      })
      assert.equal(created.status, 200)
      const token = created.body.client_session.token
      assert.equal((await devicesWith(first, token)).status, 200)
      await first.stop()

      // The same database under another secret: no API key, no token works.
      const other = await startServer({
        dataDir,
        env: { LATCHKEY_SECRET: randomBytes(32).toString('hex') },
      })
      assert.equal((await devicesWith(other, SEED.apiKey1)).status, 401)
      assert.equal((await devicesWith(other, token)).status, 401)
      await other.stop()
    })
  })

  it('a malformed LATCHKEY_SECRET stops the start with a clear reason', async () => {
    await withDataDir(async (dataDir) => {
      await assert.rejects(
        startServer({ dataDir, env: { LATCHKEY_SECRET: 'not-hex' } }),
        /LATCHKEY_SECRET must be 64 hex characters/,
      )
    })
  })
})
