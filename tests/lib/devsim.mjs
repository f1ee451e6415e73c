// Helpers for node:test files that need simulated locks: a throwaway MQTT
// broker (scripts/mqtt-test-broker) and the device simulator
// (tools/devsim/devsim.mjs, see its README.md).
//
//   const broker = await startBroker({ user: 'latchkey', password: 'secret' })
//   const sim = await startDevsim({ mqtt: broker.url, mqttUsername: 'latchkey',
//                                   mqttPassword: 'secret', haPort: 0 })
//   after(() => sim.stop())   // and broker.stop(): both are safe to call
//                             // twice, and after a failed start
//
// Both are stopped when this process exits, whatever happens: the broker by
// its watchdog (--owner), the simulator by an exit hook.
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { killAtExit } from '../api/harness.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const ROOT = path.resolve(HERE, '../..')
export const BROKER_SCRIPT = path.join(ROOT, 'scripts/mqtt-test-broker')
export const DEVSIM = path.join(ROOT, 'tools/devsim/devsim.mjs')

/** Milliseconds to wait for the simulator's ready line. */
export const DEVSIM_STARTUP_MS = 20_000

function brokerRun(...args) {
  return new Promise((resolve) => {
    execFile(BROKER_SCRIPT, args, { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }),
    )
  })
}

async function brokerScript(...args) {
  const r = await brokerRun(...args)
  if (r.code !== 0) throw new Error(`scripts/mqtt-test-broker ${args.join(' ')} failed (${r.code}):\n${r.stderr}`)
  return r.stdout
}

/**
 * A Mosquitto broker of its own, in a fresh temporary dir, stopped when this
 * process is gone (--owner). With user and password only that user may
 * connect. Resolves { url, port, dir, user, password, restart(), stop() }:
 * restart() stops the broker and starts it again on the same port (every
 * retained message and session is lost) and resolves once it accepts
 * connections; stop() stops it and removes dir (again: nothing).
 */
export async function startBroker({ user, password } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-mqtt-'))
  const args = ['start', dir, '--owner', String(process.pid)]
  if (user !== undefined) args.push('--user', user, '--password', password ?? '')
  try {
    await brokerScript(...args)
  } catch (err) {
    await brokerRun('stop', dir)
    fs.rmSync(dir, { recursive: true, force: true })
    throw err
  }
  const url = fs.readFileSync(path.join(dir, 'url'), 'utf8').trim()
  let stopped = false
  return {
    url,
    port: Number(new URL(url).port),
    dir,
    user,
    password,
    restart: async () => {
      await brokerScript('restart', dir)
    },
    stop: async () => {
      if (stopped) return
      stopped = true
      await brokerScript('stop', dir)
    },
  }
}

const FLAGS = {
  mqtt: '--mqtt',
  mqttUsername: '--mqtt-username',
  mqttPassword: '--mqtt-password',
  baseTopic: '--base-topic',
  haPort: '--ha-port',
  haToken: '--ha-token',
  controlPort: '--control-port',
  zigbeeLocks: '--zigbee-locks',
  haLocks: '--ha-locks',
  latencyMs: '--latency-ms',
}

/**
 * Starts tools/devsim/devsim.mjs and waits for its ready line. opts: mqtt,
 * mqttUsername, mqttPassword, baseTopic, haPort, haToken, controlPort,
 * zigbeeLocks, haLocks, latencyMs (each becomes its --flag when given),
 * legacyAvailability (true: --legacy-availability), args (more arguments),
 * verbose (pass its log through to this process's stderr). Resolves
 * { info (the ready line), control, stop(), log() } where control has
 * state(), zigbee(name, action, body), ha(entity, action, body), haToken(t)
 * (each resolves the control API's JSON answer and throws unless it was a
 * 2xx), and stop() sends SIGTERM and resolves its exit code (safe to call
 * twice, or after it died).
 */
export async function startDevsim(opts = {}) {
  const args = [DEVSIM]
  for (const [key, flag] of Object.entries(FLAGS)) {
    if (opts[key] !== undefined && opts[key] !== null) args.push(flag, String(opts[key]))
  }
  if (opts.legacyAvailability) args.push('--legacy-availability')
  if (opts.args) args.push(...opts.args)

  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  killAtExit(child)
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk) => {
    stderr += chunk
    if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19))
    if (opts.verbose) process.stderr.write(chunk)
  })
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  )

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      const code = await exited
      clearTimeout(killer)
      return code
    }
    return exited
  }

  let info
  try {
    info = await new Promise((resolve, reject) => {
      let out = ''
      const timer = setTimeout(
        () => reject(new Error(`devsim was not ready within ${DEVSIM_STARTUP_MS} ms:\n${stderr}`)),
        DEVSIM_STARTUP_MS,
      )
      child.stdout.setEncoding('utf8')
      child.stdout.on('data', (chunk) => {
        out += chunk
        const nl = out.indexOf('\n')
        if (nl < 0) return
        clearTimeout(timer)
        try {
          const line = JSON.parse(out.slice(0, nl))
          if (line.ready !== true) throw new Error('not a ready line')
          resolve(line)
        } catch (err) {
          reject(new Error(`devsim printed ${out.slice(0, nl)}: ${err.message}`))
        }
      })
      exited.then((code) => {
        clearTimeout(timer)
        reject(new Error(`devsim exited (${code}) before it was ready:\n${stderr}`))
      })
    })
  } catch (err) {
    await stop()
    throw err
  }

  const call = async (method, route, body) => {
    const res = await fetch(`${info.control}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    let json
    try {
      json = JSON.parse(text)
    } catch {
      json = text
    }
    if (!res.ok) {
      const err = new Error(`devsim ${method} ${route}: ${res.status} ${text}`)
      err.status = res.status
      err.body = json
      throw err
    }
    return json
  }
  const part = (s) => s.split('/').map(encodeURIComponent).join('/')

  return {
    info,
    process: child,
    control: {
      state: () => call('GET', '/state'),
      zigbee: (name, action, body = {}) => call('POST', `/zigbee/${part(name)}${action ? `/${part(action)}` : ''}`, body),
      ha: (entity, action, body = {}) => call('POST', `/ha/${part(entity)}${action ? `/${part(action)}` : ''}`, body),
      haToken: (token) => call('POST', '/ha/token', token === undefined ? {} : { token }),
    },
    /** What it logged so far. */
    log: () => stderr,
    stop,
  }
}
