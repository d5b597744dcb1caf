import { expect, test, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hydrated } from './support';

// Signing in through a real OpenID provider (npm `oidc-provider`, oidc/provider.mjs):
// the harness starts it and a portal configured for it, then a browser signs in with a
// password. The portal of the other suites runs without a provider (demo sign-in).
test.use({ storageState: { cookies: [], origins: [] } });
test.describe.configure({ mode: 'serial' });

const bin = process.env.PORTICO_BIN ?? '../target/release/portico';
const site = process.env.PORTICO_SITE_ROOT ?? '../target/site';
const started: ChildProcess[] = [];
let portal = '';
let issuer = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitFor(url: string) {
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

function start(command: string, args: string[], env: Record<string, string>) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  started.push(child);
  return child;
}

/** Starts a portal on `port` that signs in through `issuerUrl`; returns its base URL. */
async function startPortal(issuerUrl: string, port: number): Promise<string> {
  const base = `http://127.0.0.1:${port}`;
  start(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--demo', '--site-root', site], {
    DATABASE_URL: `sqlite://${join(mkdtempSync(join(tmpdir(), 'portico-oidc-')), 'portico.db')}`,
    RUST_LOG: 'warn',
    PORTICO_OIDC_ISSUER: issuerUrl,
    PORTICO_OIDC_CLIENT_ID: 'portico',
    PORTICO_OIDC_CLIENT_SECRET: 'portico-secret',
    PORTICO_ADMIN_GROUPS: 'platform-admins',
    PORTICO_DEVELOPER_GROUPS: 'engineering',
  });
  await waitFor(`${base}/readyz`);
  return base;
}

test.beforeAll(async () => {
  const providerPort = await freePort();
  const portalPort = await freePort();
  issuer = `http://127.0.0.1:${providerPort}`;
  // The provider must know the portal's redirect URI before either starts.
  start('node', ['oidc/provider.mjs'], { PORT: String(providerPort), PORTAL: `http://127.0.0.1:${portalPort}` });
  await waitFor(`${issuer}/.well-known/openid-configuration`);
  portal = await startPortal(issuer, portalPort);
});

test.afterAll(() => {
  for (const child of started) child.kill('SIGTERM');
});

/** From the portal's sign-in page through the provider's password form. */
async function signIn(page: Page, login: string, password: string, going = '/catalog') {
  await page.goto(`${portal}${going}`);
  await expect(page).toHaveURL(new RegExp(`^${portal}/login\\?return_to=`));
  await expect(page.getByText('Demo sign-in')).toHaveCount(0);
  await page.getByRole('link', { name: 'Sign in with 127.0.0.1' }).click();
  await expect(page).toHaveURL(new RegExp(`^${issuer}/interaction/`));
  await page.getByLabel('Login').fill(login);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
}

test('an admin signs in through the provider, sees the admin API, and signs out there too', async ({ page }) => {
  await signIn(page, 'grace', 'grace-pass');
  await expect(page).toHaveURL(`${portal}/catalog`);
  await hydrated(page);
  await expect(page.getByTestId('user-name')).toHaveText('grace');
  await expect(page.getByTestId('user-role')).toHaveText('admin');
  const me = await (await page.request.get(`${portal}/api/me`)).json();
  expect(me).toMatchObject({ name: 'grace', email: 'grace@northwind.example', role: 'admin', groups: ['platform-admins'] });
  expect((await page.request.get(`${portal}/api/admin/tokens`)).status()).toBe(200);

  // Signing out ends the provider's session too (its end-session page asks first).
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(new RegExp(`^${issuer}/session/end`));
  await page.getByRole('button', { name: /yes/i }).click();
  await expect(page).toHaveURL(`${portal}/login?signed_out=1`);
  expect((await page.request.get(`${portal}/api/me`)).status()).toBe(401);
});

test('a developer gets the developer role from their groups and no admin API', async ({ page }) => {
  await signIn(page, 'linus', 'linus-pass');
  await expect(page).toHaveURL(`${portal}/catalog`);
  await expect(page.getByTestId('user-role')).toHaveText('developer');
  expect((await page.request.get(`${portal}/api/admin/tokens`)).status()).toBe(403);
  const audit = await page.request.get(`${portal}/api/admin/audit`);
  expect(audit.status()).toBe(403);
});

test('a wrong password stays at the provider', async ({ page }) => {
  await signIn(page, 'linus', 'not-the-password');
  await expect(page.getByRole('alert')).toHaveText('Wrong login or password.');
  await expect(page).toHaveURL(new RegExp(`^${issuer}/interaction/`));
});

test('a tampered state is refused with an explanation', async ({ playwright }) => {
  // The flow step by step, without following redirects, so that the provider's answer
  // can be delivered with another state.
  const http = await playwright.request.newContext();
  const step = async (url: string, form?: Record<string, string>) => {
    const response = form ? await http.post(url, { form, maxRedirects: 0 }) : await http.get(url, { maxRedirects: 0 });
    return new URL(response.headers()['location'] ?? '', url).toString();
  };
  const authorize = await step(`${portal}/auth/login`);
  expect(authorize.startsWith(`${issuer}/auth?`)).toBe(true);
  const interaction = await step(authorize);
  const resume = await step(interaction, { login: 'grace', password: 'grace-pass' });
  const answer = new URL(await step(resume));
  expect(`${answer.origin}${answer.pathname}`).toBe(`${portal}/auth/callback`);
  answer.searchParams.set('state', 'tampered');
  const refused = await http.get(answer.toString(), { maxRedirects: 0 });
  expect(refused.status()).toBe(400);
  expect(await refused.text()).toContain('state mismatch');
  expect((await http.get(`${portal}/api/me`)).status()).toBe(401);
  await http.dispose();
});

test('a portal configured with the wrong issuer refuses to trust the provider', async ({ page }) => {
  // The provider calls itself 127.0.0.1; this portal expects `localhost`.
  const other = await startPortal(issuer.replace('127.0.0.1', 'localhost'), await freePort());
  const response = await page.goto(`${other}/auth/login`);
  expect(response?.status()).toBe(502);
  await expect(page.getByRole('alert')).toContainText('does not match the portal');
  await expect(page.getByRole('alert')).toContainText('issuer');
});
