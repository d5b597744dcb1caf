import { expect, test } from '@playwright/test';
import { freePort, hydrated, startPortal, stopAll, watchErrors } from './support';

// Signing in and out with the demo sign-in (no identity provider, loopback), what each
// role may do, and the origin check. These start from an empty browser: no session.
test.use({ storageState: { cookies: [], origins: [] } });

test('anonymous people are sent to sign in and come back where they were going', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/catalog?kind=api');
  await expect(page).toHaveURL(/\/login\?return_to=%2Fcatalog%3Fkind%3Dapi$/);
  await expect(page.getByRole('note')).toContainText('Demo sign-in');
  await page.getByRole('button', { name: /Ada Lovelace/ }).click();
  await expect(page).toHaveURL(/\/catalog\?kind=api$/);
  await hydrated(page);
  await expect(page.getByTestId('user-name')).toHaveText('ada.lovelace');
  await expect(page.getByTestId('user-role')).toHaveText('developer');

  // A developer may read, not administer.
  const me = await page.request.get('/api/me');
  expect(await me.json()).toMatchObject({ name: 'ada.lovelace', role: 'developer' });
  expect((await page.request.get('/api/admin/tokens')).status()).toBe(403);
  const notAllowed = await page.goto('/admin/tokens');
  expect(notAllowed?.status()).toBe(403);
  await expect(page.getByRole('alert')).toHaveText('this needs the admin role; ada.lovelace has developer');
  await page.getByRole('link', { name: 'Back to the portal' }).click();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await expect(page.getByRole('status')).toHaveText('You are signed out.');
  expect((await page.request.get('/api/me')).status()).toBe(401);
  // The browser logs the deliberate 403 of the admin page; nothing else.
  expect(errors.filter((e) => !e.includes('status of 403'))).toEqual([]);
});

test('an admin sees the admin API; a forged cross-origin write is refused', async ({ page, baseURL }) => {
  await page.goto('/login');
  await page.getByRole('button', { name: /Shafi Goldwasser/ }).click();
  await expect(page.getByTestId('user-role')).toHaveText('admin');
  expect((await page.request.get('/api/admin/tokens')).status()).toBe(200);

  // The session cookie rides along, but the Origin is another site's.
  const forged = await page.request.post('/api/catalog/refresh', {
    data: { entityRef: 'component:default/product-service' },
    headers: { Origin: 'http://evil.example' },
  });
  expect(forged.status()).toBe(403);
  const ours = await page.request.post('/api/catalog/refresh', {
    data: { entityRef: 'component:default/product-service' },
    headers: { Origin: baseURL! },
  });
  expect(ours.status()).not.toBe(403);

  // A protected API call without any credentials answers 401 with a challenge.
  const anonymous = await page.context().browser()!.newContext();
  const response = await anonymous.request.get(`${baseURL}/api/catalog/entities`);
  expect(response.status()).toBe(401);
  expect(response.headers()['www-authenticate']).toContain('Bearer');
  await anonymous.close();
});

test.describe('a portal whose sessions last two seconds', () => {
  test.afterAll(stopAll);

  test('an expired session sends people back to sign in', async ({ page }) => {
    const portal = await startPortal(await freePort(), { PORTICO_SESSION_MAX: '2s' });
    await page.goto(`${portal}/login`);
    await page.getByRole('button', { name: /Ada Lovelace/ }).click();
    await expect(page.getByTestId('user-name')).toHaveText('ada.lovelace');
    await page.waitForTimeout(2500);
    await page.goto(`${portal}/catalog`);
    await expect(page).toHaveURL(`${portal}/login?return_to=%2Fcatalog`);
    expect((await page.request.get(`${portal}/api/me`)).status()).toBe(401);
  });
});
