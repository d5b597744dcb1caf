import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'phoenix';
import WebSocket from 'ws';
import { bin, freePort, hydrated, site, start, stopAll, waitFor, watchErrors } from './support';

// The live channel from the outside: the official `phoenix` npm client, unchanged, with
// an API token; and open pages that change when the catalog changes, without a reload.
// A portal of its own, whose catalog is a file this suite rewrites.
test.use({ storageState: { cookies: [], origins: [] } });
test.describe.configure({ mode: 'serial' });

const work = mkdtempSync(join(tmpdir(), 'portico-e2e-live-'));
const database = `sqlite://${join(work, 'portico.db')}`;
const catalogFile = join(work, 'catalog-info.yaml');
let portal = '';
let admin = '';
let viewer = '';

function token(role: string): string {
  return execFileSync(bin, ['token', 'create', '--name', `live-${role}-${process.pid}`, '--role', role], {
    env: { ...process.env, DATABASE_URL: database, RUST_LOG: 'warn' },
    encoding: 'utf8',
  }).trim();
}

/** The catalog file: one component per name, each with `description`. */
function writeCatalog(components: Record<string, string>) {
  const documents = Object.entries(components).map(
    ([name, description]) =>
      `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\n  description: ${description}\nspec:\n  type: service\n  lifecycle: production\n  owner: group:default/storefront\n`,
  );
  writeFileSync(catalogFile, documents.join('---\n'));
}

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${portal}${path}`, {
    method,
    headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Re-reads the catalog file now (the file watcher would too, a moment later). */
async function refresh() {
  const response = await api('POST', '/api/catalog/refresh', { entityRef: 'component:default/live-one' });
  expect(response.status).toBe(200);
}

let port = 0;
let server: ReturnType<typeof start> | undefined;

/** Starts (or starts again) this suite's portal on its port and database. */
async function startServer() {
  server = start(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--site-root', site], {
    DATABASE_URL: database,
    PORTICO_CATALOG_ROOTS: work,
    RUST_LOG: 'warn',
  });
  await waitFor(`${portal}/readyz`);
}

test.beforeAll(async () => {
  writeCatalog({ 'live-one': 'First words' });
  port = await freePort();
  portal = `http://127.0.0.1:${port}`;
  await startServer();
  admin = token('admin');
  viewer = token('viewer');
  const registered = await api('POST', '/api/catalog/locations', { type: 'file', target: catalogFile });
  expect(registered.status).toBe(201);
});

test.afterAll(stopAll);

type Pushed = { event: string; payload: { id: number; ref?: string } };

/** A phoenix Socket on the portal with `token`, as any Phoenix application makes one. */
function phoenixSocket(secret: string): Socket {
  const socket = new Socket(`${portal.replace('http', 'ws')}/socket`, {
    transport: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { token: secret },
  });
  socket.connect();
  return socket;
}

function join_(channel: ReturnType<Socket['channel']>): Promise<{ status: string; response: Record<string, unknown> }> {
  return new Promise((resolve) => {
    channel
      .join()
      .receive('ok', (response: Record<string, unknown>) => resolve({ status: 'ok', response }))
      .receive('error', (response: Record<string, unknown>) => resolve({ status: 'error', response }));
  });
}

test('the phoenix client joins with a token and gets a change within a second', async () => {
  const socket = phoenixSocket(viewer);
  const catalog = socket.channel('catalog', {});
  const received: Pushed[] = [];
  catalog.on('entity.updated', (payload: Pushed['payload']) => received.push({ event: 'entity.updated', payload }));
  expect((await join_(catalog)).status).toBe('ok');

  // A topic a viewer may not read is refused, with the reason.
  const task = socket.channel('task:1', {});
  const refused = await join_(task);
  expect(refused).toEqual({ status: 'error', response: { reason: 'task:1 needs the developer role' } });
  task.leave();

  writeCatalog({ 'live-one': 'Second words' });
  const changedAt = Date.now();
  await refresh();
  await expect.poll(() => received.length, { timeout: 5_000 }).toBeGreaterThan(0);
  expect(Date.now() - changedAt).toBeLessThan(1_000);
  expect(received[0].payload.ref).toBe('component:default/live-one');
  expect(Number.isInteger(received[0].payload.id)).toBe(true);
  socket.disconnect();
});

test('a phoenix client that rejoins with since gets exactly what it missed, in order', async () => {
  const socket = phoenixSocket(viewer);
  let since: number | undefined;
  const topic = 'entity:component:default/live-one';
  // Params as a function: the phoenix client calls it on every (re)join.
  const channel = socket.channel(topic, () => (since === undefined ? {} : { since }));
  const ids: number[] = [];
  channel.on('entity.updated', (payload: Pushed['payload']) => {
    ids.push(payload.id);
    since = payload.id;
  });
  const joined = await join_(channel);
  expect(joined.status).toBe('ok');
  since = joined.response.last_id as number;

  writeCatalog({ 'live-one': 'Seen live' });
  await refresh();
  await expect.poll(() => ids.length).toBe(1);

  // Away: three changes happen.
  socket.disconnect();
  for (const words of ['Missed one', 'Missed two', 'Missed three']) {
    writeCatalog({ 'live-one': words });
    await refresh();
    const entity = await (await api('GET', `/api/catalog/entities/by-name/component/default/live-one`)).json();
    expect(entity.metadata.description).toBe(words);
  }
  const seen = ids[0];
  socket.connect();
  await expect.poll(() => ids.length, { timeout: 10_000 }).toBe(4);
  for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]);
  expect(ids[1]).toBeGreaterThan(seen);
  // No duplicates arrive afterwards.
  await new Promise((r) => setTimeout(r, 500));
  expect(ids).toHaveLength(4);
  socket.disconnect();
});

async function signIn(page: Page, person: RegExp) {
  await page.goto(`${portal}/login`);
  await page.getByRole('button', { name: person }).click();
  await expect(page.getByTestId('user-name')).toBeVisible();
}

test('an open entity page and the catalog list change without a reload', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, /Shafi Goldwasser/);
  await page.goto(`${portal}/catalog/default/component/live-one`);
  await hydrated(page);
  await expect(page.locator('.connection')).toHaveAttribute('data-state', 'live');
  await expect(page.getByRole('status').filter({ hasText: 'Live' })).toBeVisible();
  // Marks this document: a reload would lose it.
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same page'));

  writeCatalog({ 'live-one': 'Changed while you watched' });
  await refresh();
  await expect(page.locator('p.description')).toHaveText('Changed while you watched', { timeout: 5_000 });

  await page.goto(`${portal}/catalog?kind=component`);
  await hydrated(page);
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same page'));
  await expect(page.getByRole('link', { name: 'live-two' })).toHaveCount(0);
  writeCatalog({ 'live-one': 'Changed while you watched', 'live-two': 'A new one' });
  await refresh();
  await expect(page.getByRole('link', { name: 'live-two' })).toBeVisible({ timeout: 5_000 });
  expect(await page.evaluate(() => (window as unknown as { marker: string }).marker)).toBe('same page');
  expect(errors).toEqual([]);
});

test('people looking at the same entity see each other', async ({ page, browser }) => {
  await signIn(page, /Shafi Goldwasser/);
  await page.goto(`${portal}/catalog/default/component/live-one`);
  await hydrated(page);
  const other = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const second = await other.newPage();
  await signIn(second, /Karen Spärck Jones|Karen Sparck Jones/);
  await second.goto(`${portal}/catalog/default/component/live-one`);
  await hydrated(second);
  const viewing = page.getByRole('region', { name: 'Viewing now' });
  await expect(viewing).toContainText('shafi.goldwasser');
  await expect(viewing).toContainText('karen.sparck-jones');
  await other.close();
  await expect(viewing).not.toContainText('karen.sparck-jones', { timeout: 5_000 });
});

test('a page stays open across a server restart and catches up with what it missed', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, /Shafi Goldwasser/);
  await page.goto(`${portal}/catalog/default/component/live-one`);
  await hydrated(page);
  const indicator = page.locator('.connection');
  await expect(indicator).toHaveAttribute('data-state', 'live');
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same page'));

  // The server stops: the page says so and keeps trying.
  const stopped = new Promise((resolve) => server!.once('exit', resolve));
  server!.kill('SIGTERM');
  await stopped;
  await expect(indicator).toHaveAttribute('data-state', /reconnecting|offline/);

  // Changed while the page was cut off: read when the server starts again.
  writeCatalog({ 'live-one': 'Changed during the outage', 'live-two': 'A new one' });
  await startServer();
  await expect(indicator).toHaveAttribute('data-state', 'live', { timeout: 10_000 });
  await expect(page.locator('p.description')).toHaveText('Changed during the outage', { timeout: 10_000 });
  expect(await page.evaluate(() => (window as unknown as { marker: string }).marker)).toBe('same page');
  // The refused connections while the server was down are the browser's own messages.
  expect(errors.filter((e) => !e.includes('WebSocket connection'))).toEqual([]);
});

test('a change between the page render and the socket joining is not missed', async ({ page }) => {
  await signIn(page, /Shafi Goldwasser/);
  // Hold the page's socket back until the change is made.
  let release: () => void = () => {};
  const changed = new Promise<void>((resolve) => (release = resolve));
  await page.routeWebSocket(/\/socket\/websocket/, async (ws) => {
    await changed;
    ws.connectToServer();
  });
  await page.goto(`${portal}/catalog/default/component/live-one`);
  await hydrated(page);
  await expect(page.locator('p.description')).toHaveText('Changed during the outage');

  writeCatalog({ 'live-one': 'Changed before the socket joined', 'live-two': 'A new one' });
  await refresh();
  release();
  // The first join asks for what came after the rendered page: the change is replayed.
  await expect(page.locator('p.description')).toHaveText('Changed before the socket joined', { timeout: 10_000 });
});

test('a tab whose session ends says so and offers to sign in again', async ({ page }) => {
  await signIn(page, /Ada Lovelace/);
  await page.goto(`${portal}/catalog/default/component/live-one`);
  await hydrated(page);
  const indicator = page.locator('.connection');
  await expect(indicator).toHaveAttribute('data-state', 'live');

  // Signed out from another tab of the same browser.
  const other = await page.context().newPage();
  await other.goto(`${portal}/catalog`);
  await other.getByRole('button', { name: 'Sign out' }).click();
  await expect(other).toHaveURL(/\/login/);

  await expect(indicator).toHaveAttribute('data-state', 'signed-out', { timeout: 10_000 });
  const again = indicator.getByRole('link', { name: 'Sign in again' });
  await expect(again).toHaveAttribute('href', '/login?return_to=%2Fcatalog%2Fdefault%2Fcomponent%2Flive-one');
  await again.click();
  await page.getByRole('button', { name: /Ada Lovelace/ }).click();
  await expect(page).toHaveURL(`${portal}/catalog/default/component/live-one`);
  await hydrated(page);
  await expect(page.locator('.connection')).toHaveAttribute('data-state', 'live');
});
