import { expect, test, type Page } from '@playwright/test';

import { hydrated, watchErrors } from './support';

// The server runs with --demo: the Northwind Outfitters catalog (46 components, 18 APIs,
// 11 groups, 24 users …).

const rows = (page: Page) => page.locator('.catalog-table tbody tr');

test('the catalog table is rendered on the server with tabs, facets and a page', async ({ request }) => {
  const response = await request.get('/catalog');
  expect(response.status()).toBe(200);
  const html = await response.text();
  expect(html).toContain('product-service');
  // Text the page fills in may be followed by a hydration marker (`<!>`).
  expect(html).toMatch(/<span class="tab-count">46(<!>)?<\/span>/);
  expect(html).toContain('1–46 of 46');
});

test('search as you type, facets, sorting and pages live in the URL', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/catalog');
  await hydrated(page);
  await expect(rows(page)).toHaveCount(46);

  // A facet narrows the table and the URL says so.
  const facet = page.locator('.facet-group', { hasText: 'Owner' }).getByRole('checkbox', { name: /payments/ });
  await facet.click();
  await expect(page).toHaveURL(/owner=payments/);
    await expect(
    page.locator('.facet-group', { hasText: 'Owner' }).getByRole('checkbox', { name: /payments/ }),
  ).toHaveAttribute('aria-checked', 'true');
  const owned = await rows(page).count();
  expect(owned).toBeGreaterThan(0);
  expect(owned).toBeLessThan(46);
  for (const owner of await rows(page).locator('td:nth-child(2)').allInnerTexts()) {
    expect(owner.trim()).toBe('payments');
  }

  // Typing searches after a pause, ranked, and keeps the facet.
  await page.getByRole('searchbox', { name: 'Search the catalog' }).fill('pay');
  await expect(page).toHaveURL(/q=pay/);
  await expect(page).toHaveURL(/owner=payments/);
  await expect(rows(page).first()).toContainText(/pay/i);

  // Nothing matches: an empty state with a way out.
  await page.getByRole('searchbox', { name: 'Search the catalog' }).fill('zzzz-nothing');
  await expect(page.getByTestId('no-results')).toBeVisible();
  await page.getByRole('link', { name: 'Clear the search and filters' }).click();
  await expect(rows(page)).toHaveCount(46);
  await expect(page).toHaveURL(/\/catalog(\?kind=component)?$/);

  // Sorting by name descending, then the other kind tab.
  await page.getByRole('link', { name: /^Name/ }).click();
  await expect(page).toHaveURL(/sort=-name/);
  const names = await rows(page).locator('.cell-name a').allInnerTexts();
  expect(names).toEqual([...names].sort((a, b) => b.localeCompare(a)));
  await page.getByRole('link', { name: /^API/ }).click();
  await expect(page).toHaveURL(/kind=api/);
  await expect(rows(page)).toHaveCount(18);

  // The view survives a reload: it is all in the URL.
  await page.reload();
  await expect(rows(page)).toHaveCount(18);
  expect(errors).toEqual([]);
});

test('pages of fifty with a cursor in the URL', async ({ page }) => {
  await page.goto('/catalog?kind=all');
  await hydrated(page);
  await expect(page.getByTestId('result-range')).toHaveText(/^1–50 of \d+/);
  await page.getByRole('link', { name: 'Next →' }).click();
  await expect(page).toHaveURL(/cursor=/);
  await expect(page.getByTestId('result-range')).toHaveText(/^51–100 of /);
  await page.getByRole('link', { name: '← Previous' }).click();
  await expect(page.getByTestId('result-range')).toHaveText(/^1–50 of /);
});

test('an entity page shows overview, APIs, relations, the graph and the YAML', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/catalog/default/component/product-service');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(page.locator('.overview')).toContainText('storefront');
  await expect(page.locator('.related-card', { hasText: 'Provided APIs' })).toContainText('product-api');
  await expect(page.locator('.related-card', { hasText: 'Consumed APIs' })).toContainText('inventory-api');
  await expect(page.locator('svg.graph a.node.root')).toHaveCount(1);
  expect(await page.locator('svg.graph a.node').count()).toBeGreaterThan(3);
  await page.getByText('Show the YAML').click();
  await expect(page.locator('pre.yaml')).toContainText('name: product-service');

  // Graph boxes are links: to the API, then its page lists the provider.
  await hydrated(page);
  await page.locator('svg.graph a.node[href="/catalog/default/api/product-api"]').click();
  await expect(page).toHaveURL(/\/catalog\/default\/api\/product-api$/);
  await expect(page.locator('.related-card', { hasText: 'Provided by' })).toContainText('product-service');
  expect(errors).toEqual([]);
});

test('group and user pages show members, groups and owned entities', async ({ page }) => {
  await page.goto('/catalog/default/group/payments');
  await expect(page.locator('.related-card', { hasText: 'Members' })).toContainText('margaret.hamilton');
  await expect(page.locator('.related-card', { hasText: 'Owned entities' }).locator('li').first()).toBeVisible();
  await page.locator('.related-card', { hasText: 'Members' }).getByRole('link', { name: /margaret/i }).first().click();
  await expect(page).toHaveURL(/\/catalog\/default\/user\/margaret\.hamilton$/);
  await expect(page.locator('.related-card', { hasText: 'Groups' })).toContainText('payments');
});

test('an unknown entity is a 404 that says what was asked for', async ({ page }) => {
  const response = await page.goto('/catalog/default/component/does-not-exist');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Not in the catalog' })).toBeVisible();
  await expect(page.locator('code')).toHaveText('component:default/does-not-exist');
});
