import { expect, test } from '@playwright/test';

import { hydrated, watchErrors } from './support';

test('the home page is rendered on the server', async ({ request }) => {
  const response = await request.get('/');
  expect(response.status()).toBe(200);
  const html = await response.text();
  expect(html).toContain('Your developer portal');
  expect(html).toContain('/pkg/portico.js');
  expect(html).toContain('/pkg/portico.wasm');
  expect(html).toContain('Portico v');
});

test('the page hydrates: the theme switch works and is remembered', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Your developer portal' })).toBeVisible();
  const toggle = page.locator('.theme-toggle');
  await expect(toggle).toContainText('Theme: system');

  await hydrated(page);
  await toggle.click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await expect(toggle).toContainText('Theme: light');

  await toggle.click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).toBe('rgb(15, 18, 22)');

  // The choice survives a reload, applied before the first paint.
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await hydrated(page);
  await expect(toggle).toContainText('Theme: dark');

  await toggle.click();
  await expect(page.locator('html')).not.toHaveAttribute('data-theme', /.*/);
  await expect(toggle).toContainText('Theme: system');
  expect(errors).toEqual([]);
});

test('navigation between sections happens in the browser, without a page load', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/');
  await expect(page.getByText('See the full system status')).toBeVisible();
  await hydrated(page);

  // A marker on window survives client-side navigation and dies with a page load.
  await page.evaluate(() => ((window as any).__sameDocument = true));
  let documentRequests = 0;
  page.on('request', (request) => {
    if (request.resourceType() === 'document') documentRequests += 1;
  });

  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'System status' }).click();
  await expect(page).toHaveURL(/\/status$/);
  await expect(page.getByRole('heading', { name: 'System status', level: 1 })).toBeVisible();
  await expect(page).toHaveTitle('System status · Portico');
  await expect(page.getByTestId('readiness')).toHaveText('Ready');
  await expect(page.getByRole('cell', { name: 'events' })).toBeVisible();

  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Overview' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { name: 'Your developer portal' })).toBeVisible();

  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  expect(documentRequests).toBe(0);
  expect(errors).toEqual([]);
});

test('the status page refreshes through a server function', async ({ page }) => {
  await page.goto('/status');
  await expect(page.getByTestId('readiness')).toHaveText('Ready');
  await hydrated(page);
  const serverCall = page.waitForResponse(
    (response) => response.url().includes('/api/system_status') && response.status() === 200,
  );
  await page.getByRole('button', { name: 'Refresh' }).click();
  await serverCall;
  await expect(page.getByText('SQLite (embedded)')).toBeVisible();
});

test('an unknown page shows the 404 page with status 404', async ({ page }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await page.getByRole('link', { name: 'Back to the overview' }).click();
  await expect(page.getByRole('heading', { name: 'Your developer portal' })).toBeVisible();
});

test('the operational endpoints answer', async ({ request }) => {
  const ready = await request.get('/readyz');
  expect(ready.status()).toBe(200);
  expect(await ready.json()).toMatchObject({ status: 'ready', database: 'sqlite' });

  const health = await request.get('/healthz');
  expect(health.status()).toBe(200);

  const metrics = await request.get('/metrics');
  expect(metrics.status()).toBe(200);
  const text = await metrics.text();
  expect(text).toContain('portico_http_requests_total{');
  expect(text).toContain('route="/readyz"');
  expect(text).toContain('portico_db_pool_connections');
});
