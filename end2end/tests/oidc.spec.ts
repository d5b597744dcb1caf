import { expect, test, type Page } from '@playwright/test';
import { freePort, hydrated, start, startPortal, stopAll, waitFor } from './support';

// Signing in through a real OpenID provider (npm `oidc-provider`, oidc/provider.mjs):
// the harness starts it and a portal configured for it, then a browser signs in with a
// password. The portal of the other suites runs without a provider (demo sign-in).
test.use({ storageState: { cookies: [], origins: [] } });
test.describe.configure({ mode: 'serial' });

let portal = '';
let issuer = '';

/** A portal that signs in through `issuerUrl`, on `port`. */
function oidcPortal(issuerUrl: string, port: number): Promise<string> {
  return startPortal(port, {
    PORTICO_OIDC_ISSUER: issuerUrl,
    PORTICO_OIDC_CLIENT_ID: 'portico',
    PORTICO_OIDC_CLIENT_SECRET: 'portico-secret',
    PORTICO_ADMIN_GROUPS: 'platform-admins',
    PORTICO_DEVELOPER_GROUPS: 'engineering',
  });
}

test.beforeAll(async () => {
  const providerPort = await freePort();
  const portalPort = await freePort();
  issuer = `http://127.0.0.1:${providerPort}`;
  // The provider must know the portal's redirect URI before either starts.
  start('node', ['oidc/provider.mjs'], { PORT: String(providerPort), PORTAL: `http://127.0.0.1:${portalPort}` });
  await waitFor(`${issuer}/.well-known/openid-configuration`);
  portal = await oidcPortal(issuer, portalPort);
});

test.afterAll(stopAll);

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
  const other = await oidcPortal(issuer.replace('127.0.0.1', 'localhost'), await freePort());
  const response = await page.goto(`${other}/auth/login`);
  expect(response?.status()).toBe(502);
  await expect(page.getByRole('alert')).toContainText('does not match the portal');
  await expect(page.getByRole('alert')).toContainText('issuer');
});
