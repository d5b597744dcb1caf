import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, freePort, hydrated, site, start, stopAll, waitFor, watchErrors } from './support';

// The environment dashboards in a real browser: a deployment reported with an API token
// appears in the open dashboard at once, and a probed service that stops turns its cell
// red, without a reload. A portal of its own (no demo simulator moving things about).
test.use({ storageState: { cookies: [], origins: [] } });
test.describe.configure({ mode: 'serial' });

const work = mkdtempSync(join(tmpdir(), 'portico-e2e-env-'));
const database = `sqlite://${join(work, 'portico.db')}`;
const catalogFile = join(work, 'catalog-info.yaml');
let portal = '';
let admin = '';
let ci = '';

function token(name: string, role: string): string {
  return execFileSync(bin, ['token', 'create', '--name', `${name}-${process.pid}`, '--role', role], {
    env: { ...process.env, DATABASE_URL: database, RUST_LOG: 'warn' },
    encoding: 'utf8',
  }).trim();
}

async function api(secret: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${portal}${path}`, {
    method,
    headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** A health endpoint on a port of its own, that can be stopped. */
function healthServer(port: number): Promise<Server> {
  const server = createServer((_, response) => {
    response.writeHead(200, { 'Content-Type': 'text/plain', Connection: 'close' });
    response.end('ok');
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

test.beforeAll(async () => {
  const components = ['payments-api', 'ledger'].map(
    (name) =>
      `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: service\n  lifecycle: production\n  owner: group:default/payments\n`,
  );
  writeFileSync(catalogFile, components.join('---\n'));
  const port = await freePort();
  portal = `http://127.0.0.1:${port}`;
  start(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--site-root', site], {
    DATABASE_URL: database,
    PORTICO_CATALOG_ROOTS: work,
    PORTICO_ENVIRONMENTS: 'dev,staging,production',
    RUST_LOG: 'warn',
  });
  await waitFor(`${portal}/readyz`);
  admin = token('env-admin', 'admin');
  ci = token('env-ci', 'sre');
  const registered = await api(admin, 'POST', '/api/catalog/locations', { type: 'file', target: catalogFile });
  expect(registered.status).toBe(201);
});

test.afterAll(stopAll);

async function signIn(page: Page) {
  await page.goto(`${portal}/login`);
  await page.getByRole('button', { name: /Karen Spärck Jones/ }).click();
  await expect(page.getByTestId('user-name')).toBeVisible();
}

function cell(page: Page, entity: string, environment: string) {
  return page.locator(`tr[data-entity="component:default/${entity}"] td[data-environment="${environment}"]`);
}

test('a deployment reported with the API shows in the open dashboard within a second', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page);
  // Something to show first, so the matrix is on the page.
  const first = await api(ci, 'POST', '/api/v1/deployments', {
    id: 'e2e-1', entity: 'ledger', environment: 'staging', version: '1.0.0', status: 'succeeded',
  });
  expect(first.status).toBe(201);
  await page.goto(`${portal}/environments`);
  await hydrated(page);
  await expect(page.locator('.connection')).toHaveAttribute('data-state', 'live');
  await expect(cell(page, 'ledger', 'staging')).toContainText('1.0.0');
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same page'));

  const reported = await api(ci, 'POST', '/api/v1/deployments', {
    id: 'e2e-2', entity: 'payments-api', environment: 'production', version: '2.7.1', status: 'started', actor: 'ci',
  });
  expect(reported.status).toBe(201);
  const production = cell(page, 'payments-api', 'production');
  await expect(production).toContainText('2.7.1', { timeout: 1_000 });
  await expect(production).toContainText('started');
  // Moving on: the same cell follows; the "last hour" feed lists it.
  await api(ci, 'POST', '/api/v1/deployments', {
    id: 'e2e-2', entity: 'payments-api', environment: 'production', version: '2.7.1', status: 'failed',
  });
  await expect(production).toContainText('failed', { timeout: 1_000 });
  await expect(page.getByTestId('changes')).toContainText('payments-api');
  expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same page');

  // The environment's own page, and the component's Deployments tab.
  await page.goto(`${portal}/environments/production`);
  await expect(page.getByTestId('environment-components')).toContainText('2.7.1');
  await page.goto(`${portal}/catalog/default/component/payments-api?tab=deployments`);
  await expect(page.getByRole('heading', { name: 'Production' })).toBeVisible();
  await expect(page.locator('section[data-environment="production"]')).toContainText('failed');
  expect(errors).toEqual([]);
});

test('a probed service that stops turns its cell red without a reload', async ({ page }) => {
  const errors = watchErrors(page);
  const port = await freePort();
  const service = await healthServer(port);
  const declared = await api(ci, 'PUT', '/api/v1/probes', {
    entity: 'ledger', environment: 'dev', url: `http://127.0.0.1:${port}/healthz`, interval: '1s', timeout: '500ms',
  });
  expect(declared.status).toBe(200);
  await signIn(page);
  await page.goto(`${portal}/environments`);
  await hydrated(page);
  const dev = cell(page, 'ledger', 'dev');
  await expect(dev).toHaveAttribute('data-health', 'healthy', { timeout: 10_000 });
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same page'));

  await new Promise<void>((resolve) => {
    service.closeAllConnections();
    service.close(() => resolve());
  });
  // Down after three failed checks in a row, a second apart.
  await expect(dev).toHaveAttribute('data-health', 'down', { timeout: 10_000 });
  await expect(dev).toHaveClass(/health-down/);
  const background = await dev.evaluate((element) => getComputedStyle(element).backgroundColor);
  const [red, green] = background.match(/\d+/g)!.map(Number);
  expect(red).toBeGreaterThan(green);
  await expect(page.getByTestId('unhealthy-dev')).toHaveText('1 unhealthy');
  expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same page');
  expect(errors).toEqual([]);
});
