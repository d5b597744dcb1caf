import { expect, test } from '@playwright/test';
import { hydrated, watchErrors } from './support';

// The administration pages, as the demo admin (see global-setup.ts).

test('an admin creates a token, sees its secret once, and revokes it', async ({ page, playwright, baseURL }) => {
  const errors = watchErrors(page);
  await page.goto('/admin/tokens');
  await hydrated(page);
  const name = `ui-token-${Date.now()}`;
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Role').selectOption('viewer');
  await page.getByLabel('Expires after (days)').fill('30');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = (await page.getByTestId('new-secret').textContent())!;
  expect(secret).toMatch(/^portico_[A-Za-z0-9_-]{43}$/);
  const row = page.getByRole('row', { name: new RegExp(name) });
  await expect(row).toContainText('viewer');
  await expect(row).toContainText('live');

  // The token works as a bearer token…
  const script = await playwright.request.newContext({ extraHTTPHeaders: { Authorization: `Bearer ${secret}` } });
  const me = await script.get(`${baseURL}/api/me`);
  expect(await me.json()).toMatchObject({ name, role: 'viewer', kind: 'token' });

  // …a second live token cannot take its name…
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.getByRole('alert')).toContainText('already named');

  // …and once revoked it stops working at once.
  await row.getByRole('button', { name: `Revoke ${name}` }).click();
  await expect(row).toContainText('revoked');
  expect((await script.get(`${baseURL}/api/me`)).status()).toBe(401);
  await script.dispose();
  // The browser logs the deliberate 409 of the second creation; nothing else.
  expect(errors.filter((e) => !e.includes('status of 409'))).toEqual([]);
});

test('the audit log lists what happened, filtered and newest first', async ({ page }) => {
  await page.goto('/admin/audit?what=token');
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  const rows = page.locator('table.audit tbody tr');
  await expect(rows.first()).toBeVisible();
  for (const action of await rows.locator('td:nth-child(3)').allTextContents()) {
    expect(action).toMatch(/^token\./);
  }
  // Today, as a day range, keeps today's entries.
  const today = new Date().toISOString().slice(0, 10);
  await page.getByLabel('From').fill(today);
  await page.getByLabel('To').fill(today);
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(new RegExp(`since=${today}&until=${today}`));
  await expect(rows.first()).toBeVisible();
  await page.getByLabel('Who').fill('nobody-at-all');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/who=nobody-at-all/);
  await expect(page.getByText('Nothing recorded matches.')).toBeVisible();
});
