// Starting `zaffre dev` from the browser tests: the binary is spawned as a developer would run it,
// and the one-time sign-in link it prints is how the tests get in.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.resolve(ROOT, process.env.ZAFFRE_BIN ?? 'target/debug/zaffre');

/** @typedef {{base: string, link: string, output: () => string, stop: () => Promise<void>}} DevHost */

/**
 * Runs `zaffre dev ARGS…` in `cwd` and waits (60 s at most) for the sign-in link it prints.
 * @param {string[]} args everything after `dev` @param {{cwd: string, env?: Record<string, string>}} o
 * @returns {Promise<DevHost>}
 */
export async function startDev(args, o) {
  if (!existsSync(BIN)) throw new Error(`zaffre binary not found at ${BIN}: build it (cargo build --release) or set ZAFFRE_BIN`);
  const child = spawn(BIN, ['dev', ...args], {
    cwd: o.cwd,
    env: { ...process.env, ...o.env, ZAFFRE_RATE_LIMIT_PER_MINUTE: '0', RUST_LOG: process.env.RUST_LOG ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const link = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`zaffre dev printed no sign-in link within 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /(https?:\/\/[^\s"'<>]+\/auth\/dev-link\?token=[^\s"'<>]+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout.on('data', (d) => { out += d.toString(); check(); });
    child.stderr.on('data', (d) => { out += d.toString(); check(); });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`zaffre dev exited with ${code}:\n${out}`)); });
  });
  return {
    base: new URL(/** @type {string} */ (link)).origin,
    link: /** @type {string} */ (link),
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => {
        const t = setTimeout(() => { child.kill('SIGKILL'); resolve(undefined); }, 5000);
        child.once('exit', () => { clearTimeout(t); resolve(undefined); });
      });
    },
  };
}
