import { expect, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Collects console errors and page crashes, so a broken bundle fails the test. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

/** Waits until the wasm bundle has hydrated the page (it marks <html> when done). */
export async function hydrated(page: Page) {
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true', { timeout: 10_000 });
}

export const bin = process.env.PORTICO_BIN ?? '../target/release/portico';
export const site = process.env.PORTICO_SITE_ROOT ?? '../target/site';

/** A loopback port nobody listens on. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `url` until it answers 2xx (bounded). */
export async function waitFor(url: string) {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never answered`);
}

/** Processes a suite started; stop them with `stopAll` in `afterAll`. */
const started: ChildProcess[] = [];

export function start(command: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  started.push(child);
  return child;
}

export function stopAll() {
  for (const child of started.splice(0)) child.kill('SIGTERM');
}

/** Starts another portal on `port` with its own new database and `env`; returns its URL. */
export async function startPortal(port: number, env: Record<string, string>): Promise<string> {
  const base = `http://127.0.0.1:${port}`;
  start(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--demo', '--site-root', site], {
    DATABASE_URL: `sqlite://${join(mkdtempSync(join(tmpdir(), 'portico-e2e-extra-')), 'portico.db')}`,
    RUST_LOG: 'warn',
    ...env,
  });
  await waitFor(`${base}/readyz`);
  return base;
}
