import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Each run serves a fresh portico on its own port with a new SQLite database
// (`make e2e` picks both). Set in the environment so the worker processes, which load
// this file again, agree with the main process.
process.env.PORTICO_E2E_PORT ??= '3917';
process.env.PORTICO_E2E_DATA ??= mkdtempSync(join(tmpdir(), 'portico-e2e-'));
const port = Number(process.env.PORTICO_E2E_PORT);
const dataDir = process.env.PORTICO_E2E_DATA;
const bin = process.env.PORTICO_BIN ?? '../target/release/portico';
const site = process.env.PORTICO_SITE_ROOT ?? '../target/site';

export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list']],
  timeout: 30_000,
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    // Signed in as the demo admin (see global-setup.ts).
    storageState: join(dataDir, 'admin-state.json'),
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      // Browsers cannot be downloaded here: Debian's Chromium, with the network
      // chatter it does at start switched off.
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: `${bin} serve --addr 127.0.0.1:${port} --demo --site-root ${site}`,
    url: `http://127.0.0.1:${port}/readyz`,
    env: { DATABASE_URL: `sqlite://${join(dataDir, 'portico.db')}`, RUST_LOG: 'warn' },
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
