import { expect, test, type Browser, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, freePort, hydrated, site, start, stopAll, waitFor, watchErrors } from './support';

// Approvals in real browsers: a developer runs a golden path that needs an admin's
// approval; the admin, in another browser, sees it waiting, opens it with its context,
// and approves; the developer's run page goes on and completes without a reload. A
// portal of its own, with a template of the test's own.
test.use({ storageState: { cookies: [], origins: [] } });
test.describe.configure({ mode: 'serial' });

const work = mkdtempSync(join(tmpdir(), 'portico-e2e-approvals-'));
const database = `sqlite://${join(work, 'portico.db')}`;
const templateFile = join(work, 'gated-release.yaml');
let portal = '';

const template = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: gated-release
  title: Production release
  description: Releases a version, once an admin said yes.
  annotations:
    portico.dev/approvers: role:admin
spec:
  owner: group:default/platform-core
  type: service
  parameters:
    - title: Release
      required: [version]
      properties:
        version:
          title: Version
          type: string
  steps:
    - id: release
      name: Release it
      action: debug:log
      input:
        message: released \${{ parameters.version }}
  output:
    text:
      - title: Released
        content: Version \${{ parameters.version }} is out
`;

test.beforeAll(async () => {
  writeFileSync(templateFile, template);
  const port = await freePort();
  portal = `http://127.0.0.1:${port}`;
  start(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--demo', '--site-root', site], {
    DATABASE_URL: database,
    PORTICO_DATA_DIR: join(work, 'data'),
    PORTICO_CATALOG_ROOTS: work,
    RUST_LOG: 'warn',
  });
  await waitFor(`${portal}/readyz`);
  const admin = execFileSync(bin, ['token', 'create', '--name', `approvals-admin-${process.pid}`, '--role', 'admin'], {
    env: { ...process.env, DATABASE_URL: database, RUST_LOG: 'warn' },
    encoding: 'utf8',
  }).trim();
  const registered = await fetch(`${portal}/api/catalog/locations`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'file', target: templateFile }),
  });
  expect(registered.status).toBe(201);
});

test.afterAll(stopAll);

async function signIn(page: Page, who: RegExp) {
  await page.goto(`${portal}/login`);
  await page.getByRole('button', { name: who }).click();
  await expect(page.getByTestId('user-name')).toBeVisible();
}

async function newPerson(browser: Browser, who: RegExp): Promise<Page> {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await signIn(page, who);
  return page;
}

test('a run waits for an admin, who approves it live in another browser', async ({ page, browser }) => {
  const errors = watchErrors(page);
  await signIn(page, /Ada Lovelace/);
  await page.goto(`${portal}/create/templates/default/gated-release`);
  await hydrated(page);
  await page.getByRole('textbox', { name: 'Version' }).fill('1.4.0');
  await page.getByRole('button', { name: 'Review', exact: true }).click();
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.waitForURL(/\/create\/tasks\//);
  await hydrated(page);
  await expect(page.getByTestId('run-steps')).toContainText('Wait for approval');
  await expect(page.getByTestId('run-log')).toContainText('waiting for approval by role:admin');
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'processing');

  // The developer may not approve their own run.
  const mine = await newPerson(browser, /Ada Lovelace/);
  await mine.goto(`${portal}/approvals?mine=true`);
  await mine.getByRole('link', { name: 'Run Production release' }).click();
  await expect(mine.getByTestId('may-not-decide')).toContainText('asked for this approval');
  await expect(mine.getByRole('button', { name: 'Approve' })).toHaveCount(0);

  // The admin sees it waiting (the header counts it), with the form's answers.
  const admin = await newPerson(browser, /Shafi Goldwasser/);
  await expect(admin.getByTestId('waiting-badge')).toContainText('1');
  await admin.goto(`${portal}/approvals`);
  await hydrated(admin);
  const waiting = admin.getByTestId('approvals-waiting');
  await expect(waiting).toContainText('Run Production release');
  await waiting.getByRole('link', { name: 'Run Production release' }).click();
  await hydrated(admin);
  await expect(admin.getByTestId('approval-context')).toContainText('1.4.0');
  // A rejection says why.
  await admin.getByRole('button', { name: 'Reject' }).click();
  await expect(admin.locator('#decision-error')).toContainText('say why');
  await admin.getByLabel('Comment').fill('Checked the change log');
  await admin.getByRole('button', { name: 'Approve' }).click();
  await expect(admin.getByTestId('approval-history')).toContainText('approved');
  await expect(admin.getByTestId('approval-history')).toContainText('Checked the change log');
  await expect(admin.locator('.approval-header [data-status]')).toHaveAttribute('data-status', 'approved');

  // The developer's run goes on at once, without a reload.
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'completed', { timeout: 15_000 });
  await expect(page.getByTestId('run-output')).toContainText('Version 1.4.0 is out');
  // And the request shows as approved for them too.
  await expect(mine.locator('.approval-header [data-status]')).toHaveAttribute('data-status', 'approved', { timeout: 15_000 });
  expect(errors).toEqual([]);
});

test('unknown requests answer 404 with a way back', async ({ page }) => {
  await signIn(page, /Ada Lovelace/);
  const response = await page.goto(`${portal}/approvals/no-such-request`);
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'No such approval request' })).toBeVisible();
});

test('the bell counts what people are told, live, and opening a notification reads it', async ({ page, browser }) => {
  const adaErrors = watchErrors(page);
  await signIn(page, /Ada Lovelace/);
  const admin = await newPerson(browser, /Shafi Goldwasser/);
  const adminErrors = watchErrors(admin);

  // The admin first signed in after the run above asked: nothing for them yet.
  await admin.goto(`${portal}/notifications`);
  await hydrated(admin);
  await expect(admin.getByTestId('no-notifications')).toContainText('Nothing yet.');
  await expect(admin.getByRole('button', { name: 'Mark all as read' })).toBeDisabled();
  await expect(admin.getByTestId('bell-count')).toHaveCount(0);

  // A new request reaches the open page and the bell without a reload.
  await page.goto(`${portal}/`);
  await hydrated(page);
  const asked = await page.request.post(`${portal}/api/v1/approvals`, {
    data: { title: 'Open the firewall', description: 'Port 8443, for a day.', approvers: ['role:admin'] },
    headers: { Origin: portal },
  });
  expect(asked.status()).toBe(201);
  const { id } = await asked.json();
  await expect(admin.getByTestId('bell-count')).toHaveText('1', { timeout: 15_000 });
  const told = admin.getByTestId('notification').first();
  await expect(told).toContainText('Approval requested: Open the firewall');
  await expect(told).toContainText('user:ada.lovelace asks for 1 approval of role:admin.');

  // Opening it leads to the request and reads it.
  await told.getByRole('link', { name: 'Approval requested: Open the firewall' }).click();
  await expect(admin).toHaveURL(`${portal}/approvals/${id}`);
  await expect(admin.getByTestId('bell-count')).toHaveCount(0);
  await hydrated(admin);
  await admin.getByLabel('Comment').fill('Not before the audit');
  await admin.getByRole('button', { name: 'Reject' }).click();
  await expect(admin.locator('.approval-header [data-status]')).toHaveAttribute('data-status', 'rejected');

  // The developer hears of it at once: the bell, then the reason in the list.
  await expect(page.getByTestId('bell-count')).toHaveText('2', { timeout: 15_000 });
  await page.getByTestId('bell').click();
  await expect(page).toHaveURL(`${portal}/notifications`);
  const rejected = page.getByTestId('notification').first();
  await expect(rejected).toContainText('Rejected: Open the firewall');
  await expect(rejected).toContainText('Not before the audit');
  await expect(page.getByTestId('notification').nth(1)).toContainText('Approved: Run Production release');
  await rejected.getByRole('button', { name: 'Mark as read' }).click();
  await expect(page.getByTestId('bell-count')).toHaveText('1');
  await expect(page.getByTestId('unread-summary')).toHaveText('1 unread.');
  await page.getByRole('button', { name: 'Mark all as read' }).click();
  await expect(page.getByTestId('unread-summary')).toHaveText('Everything is read.');
  await expect(page.getByTestId('bell-count')).toHaveCount(0);
  expect(adaErrors).toEqual([]);
  expect(adminErrors).toEqual([]);
});
