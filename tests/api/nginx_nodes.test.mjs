// Two latchkey nodes on one database behind nginx, configured by the
// example the README points to (examples/nginx/latchkey.conf, only its
// addresses and certificate paths changed): the official SDK works through
// it over TLS, requests are spread over both nodes, a revocation through one
// node holds on the other, and when a node dies nginx's retries hide it.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import https from 'node:https'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'

import { SeamHttp } from '@seamapi/http/connect'

import { SEED, freePort, makeDataDir, removeDir, sdkRejects, sleep, startServer, stderrWhen } from './harness.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const EXAMPLE = path.resolve(HERE, '../../examples/nginx/latchkey.conf')
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p))

const run = (cmd, args) =>
  new Promise((resolve, reject) =>
    execFile(cmd, args, (error, stdout, stderr) =>
      error ? reject(new Error(`${cmd} ${args.join(' ')}: ${error.message}\n${stderr}`)) : resolve(stdout + stderr),
    ),
  )

/** The example configuration with its addresses and paths made local. */
function localConfig(example, { nodes, port, redirectPort, cert, key }) {
  let conf = example
    .replace('server 10.0.0.11:3020', `server 127.0.0.1:${nodes[0]}`)
    .replace('server 10.0.0.12:3020', `server 127.0.0.1:${nodes[1]}`)
    .replace('listen 443 ssl http2;', `listen 127.0.0.1:${port} ssl http2;`)
    .replace('listen 80;', `listen 127.0.0.1:${redirectPort};`)
    .replace('/etc/ssl/latchkey/fullchain.pem', cert)
    .replace('/etc/ssl/latchkey/privkey.pem', key)
  for (const gone of ['10.0.0.1', ' 443 ', 'listen 80', '/etc/ssl']) assert.ok(!conf.includes(gone), `example changed: ${gone}`)
  return conf
}

describe('two nodes behind nginx (examples/nginx/latchkey.conf)', { skip: !NGINX && 'nginx is not installed (scripts/bootstrap installs nginx-light)' }, () => {
  let dir
  let a
  let b
  let nginx
  let endpoint
  let ca
  const servedBy = (node) => node.stderr().split('\n').filter((l) => l.includes(' /devices/list ')).length

  before(async () => {
    dir = makeDataDir()
    a = await startServer()
    b = await startServer({ sharedWith: a })
    const cert = path.join(dir, 'cert.pem')
    const key = path.join(dir, 'key.pem')
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert])
    ca = fs.readFileSync(cert)
    const port = await freePort()
    const site = localConfig(fs.readFileSync(EXAMPLE, 'utf8'), {
      nodes: [a.port, b.port], port, redirectPort: await freePort(), cert, key,
    })
    fs.writeFileSync(path.join(dir, 'latchkey.conf'), site)
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    for (const t of temp) fs.mkdirSync(path.join(dir, t))
    fs.writeFileSync(
      path.join(dir, 'nginx.conf'),
      [
        process.getuid?.() === 0 ? 'user root;' : '',
        'worker_processes 1;',
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log;`,
        'events { worker_connections 512; }',
        'http {',
        `  access_log ${dir}/access.log;`,
        ...temp.map((t) => `  ${t}_temp_path ${dir}/${t};`),
        `  include ${dir}/latchkey.conf;`,
        '}',
      ].join('\n'),
    )
    const conf = ['-p', dir, '-c', path.join(dir, 'nginx.conf')]
    await run(NGINX, ['-t', ...conf]) // the configuration is valid
    nginx = spawn(NGINX, [...conf, '-g', 'daemon off;'], { stdio: 'ignore' })
    process.on('exit', () => nginx.kill('SIGKILL')) // also when this test process fails
    endpoint = `https://127.0.0.1:${port}`
    for (let i = 0; ; i++) {
      try {
        await new Promise((resolve, reject) =>
          https.get(`${endpoint}/health`, { ca }, (res) => (res.resume(), resolve())).on('error', reject),
        )
        break
      } catch (err) {
        if (i > 100) throw err
        await sleep(100)
      }
    }
  })
  after(async () => {
    nginx?.kill('SIGTERM')
    await b?.stop()
    await a?.stop().catch(() => {}) // killed by the last test
    if (dir) removeDir(dir)
  })

  // The test certificate's CA, the way an app behind a private CA passes
  // it: axios's Node adapter with an agent that trusts it.
  const options = () => ({
    endpoint,
    axiosOptions: { adapter: 'http', httpsAgent: new https.Agent({ ca, keepAlive: true }) },
    axiosRetryOptions: { retries: 0 },
  })

  test('the SDK works through nginx over TLS, and both nodes serve', async () => {
    const seam = SeamHttp.fromApiKey(SEED.apiKey1, options())
    const session = await seam.clientSessions.create({
      user_identifier_key: `nginx_${Date.now()}`,
      connected_account_ids: [SEED.johnAccount],
    })
    const user = SeamHttp.fromClientSessionToken(session.token, options())
    const before = [servedBy(a), servedBy(b)]
    for (let i = 0; i < 20; i++) assert.equal((await user.devices.list()).length, 4)
    // Each request's line, on the node that served it (written in batches).
    await stderrWhen(a, () => servedBy(a) + servedBy(b) >= before[0] + before[1] + 20)
    const after = [servedBy(a), servedBy(b)]
    assert.ok(after[0] > before[0] && after[1] > before[1], `both nodes served: ${before} → ${after}`)
  })

  test('revoked through nginx: refused on every node', async () => {
    const seam = SeamHttp.fromApiKey(SEED.apiKey1, options())
    const session = await seam.clientSessions.create({ user_identifier_key: `nginx_revoke_${Date.now()}` })
    await seam.clientSessions.revoke({ client_session_id: session.client_session_id })
    const user = SeamHttp.fromClientSessionToken(session.token, options())
    for (let i = 0; i < 4; i++) await sdkRejects(user.devices.list(), 401)
  })

  test('a node killed: nginx sends every request to the other', async () => {
    const seam = SeamHttp.fromApiKey(SEED.apiKey1, options())
    await a.kill()
    for (let i = 0; i < 20; i++) assert.equal((await seam.devices.list()).length, 5)
    const session = await seam.clientSessions.create({ user_identifier_key: `nginx_after_${Date.now()}` })
    assert.ok(session.token)
  })
})
