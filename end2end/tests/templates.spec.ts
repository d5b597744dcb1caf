import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, freePort, hydrated, site, start, stopAll, waitFor, watchErrors } from './support';

// Golden paths in a real browser: a developer picks the Rust service, fills in the
// wizard (checked as they type), reviews, creates, and watches the run end, live, with a
// real git repository and catalog entry made by it. A portal of its own, with the demo's
// golden paths publishing under its own data directory, and a slow template of the
// test's own to watch a run move.
test.use({ storageState: { cookies: [], origins: [] } });
test.describe.configure({ mode: 'serial' });

const work = mkdtempSync(join(tmpdir(), 'portico-e2e-templates-'));
const database = `sqlite://${join(work, 'portico.db')}`;
const templateFile = join(work, 'slow-template.yaml');
let portal = '';

// Takes a few seconds, has a page that only applies to some answers, and a secret.
const slowTemplate = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: e2e-slow
  title: Slow checklist
  description: Waits a little, so that a run can be watched.
spec:
  owner: group:default/platform-core
  type: service
  parameters:
    - title: Basics
      required: [name, flavour]
      properties:
        name:
          title: Name
          type: string
        flavour:
          title: Flavour
          type: string
          enum: [plain, fancy]
        token:
          title: Token
          type: string
          ui:field: Secret
    - title: Fancy options
      if: \${{ parameters.flavour == 'fancy' }}
      properties:
        sparkle:
          title: Sparkle
          type: boolean
  steps:
    - id: wait
      name: Take a moment
      action: debug:wait
      input:
        seconds: 3
    - id: say
      name: Say hello
      action: debug:log
      input:
        message: hello \${{ parameters.name }}
  output:
    text:
      - title: Result
        content: Made \${{ parameters.name }}
`;

test.beforeAll(async () => {
  writeFileSync(templateFile, slowTemplate);
  const port = await freePort();
  portal = `http://127.0.0.1:${port}`;
  start(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--demo', '--site-root', site], {
    DATABASE_URL: database,
    PORTICO_DATA_DIR: join(work, 'data'),
    PORTICO_CATALOG_ROOTS: work,
    RUST_LOG: 'warn',
  });
  await waitFor(`${portal}/readyz`);
  const admin = execFileSync(bin, ['token', 'create', '--name', `templates-admin-${process.pid}`, '--role', 'admin'], {
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

async function signIn(page: Page) {
  await page.goto(`${portal}/login`);
  await page.getByRole('button', { name: /Ada Lovelace/ }).click();
  await expect(page.getByTestId('user-name')).toBeVisible();
}

/** Marks the page, to tell later that it was not loaded again. */
async function mark(page: Page) {
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same page'));
}

async function marked(page: Page): Promise<string | undefined> {
  return page.evaluate(() => (window as unknown as { marker?: string }).marker);
}

test('a developer creates a Rust service from the golden path and opens it in the catalog', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page);
  await page.goto(`${portal}/create`);
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Create something new' })).toBeVisible();
  await expect(page.getByTestId('template-card')).toHaveCount(3);
  await expect(page.getByTestId('recent-runs')).toHaveCount(0);
  await page.getByRole('link', { name: 'Choose Rust HTTP service' }).click();

  // Page one: a bad name is flagged once the field is left, and Next stays on the page.
  await expect(page.getByRole('heading', { name: 'About the service' })).toBeVisible();
  await hydrated(page);
  const name = page.getByRole('textbox', { name: 'Name', exact: true });
  await name.fill('Order_History');
  await name.press('Tab');
  await expect(page.locator('#field-name-problems')).toContainText('Name must match');
  await expect(name).toHaveAttribute('aria-invalid', 'true');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('heading', { name: 'About the service' })).toBeVisible();
  await expect(page.locator('#field-owner-problems')).toContainText('Owner is required');
  await name.fill('order-history');
  await expect(page.locator('#field-name-problems')).toBeEmpty();
  await expect(name).not.toHaveAttribute('aria-invalid', 'true');

  // The owner comes from the catalog: type, then pick a suggestion.
  const owner = page.getByRole('combobox', { name: /Owner/ });
  await owner.click();
  await owner.pressSequentially('platform c');
  // Suggestions follow the typing: only the one match is left.
  await expect(page.getByRole('option')).toHaveCount(1);
  await expect(page.getByRole('option').first()).toContainText('Platform Core');
  await owner.press('ArrowDown');
  await expect(owner).toHaveAttribute('aria-expanded', 'true');
  await owner.press('Enter');
  await expect(owner).toHaveValue('group:default/platform-core');
  await expect(page.getByRole('listbox')).toBeHidden();

  // Page two keeps its defaults; page three is the repository.
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('heading', { name: 'Runtime' })).toBeVisible();
  await expect(page.getByRole('spinbutton', { name: 'Port' })).toHaveValue('8080');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('heading', { name: 'Repository' })).toBeVisible();
  await expect(page.locator('#field-repoUrl')).toHaveValue('git.northwind.test');
  await page.locator('#field-repoUrl-owner').fill('payments');
  await page.locator('#field-repoUrl-repo').fill('order-history');
  await expect(page.locator('#field-repoUrl-preview')).toHaveText('git.northwind.test/payments/order-history');

  // The review lists every answer; Create starts the run.
  await page.getByRole('button', { name: 'Review', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Review' })).toBeVisible();
  const review = page.locator('.review-table');
  await expect(review.nth(0)).toContainText('order-history');
  await expect(review.nth(0)).toContainText('group:default/platform-core');
  await expect(review.nth(1)).toContainText('8080');
  await expect(review.nth(2)).toContainText('git.northwind.test?owner=payments&repo=order-history');
  // A dry run shows the files before anything is made.
  await page.getByRole('button', { name: 'Preview the files' }).click();
  const preview = page.locator('#preview');
  await expect(preview).toContainText('would be written');
  await expect(preview).toContainText('catalog-info.yaml');
  await preview.getByText('Cargo.toml').click();
  await expect(preview).toContainText('name = "order-history"');
  await page.getByRole('button', { name: 'Create', exact: true }).click();

  await page.waitForURL(/\/create\/tasks\/[0-9a-f-]+$/);
  await hydrated(page);
  await mark(page);
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'completed', { timeout: 20_000 });
  await expect(page.getByTestId('run-steps')).toContainText('Create the repository');
  await expect(page.getByTestId('run-log')).toContainText('registered');
  const output = page.getByTestId('run-output');
  await expect(output).toContainText('git clone');
  expect(await marked(page)).toBe('same page');

  // Its catalog page exists: the entity the run registered.
  await output.getByRole('link', { name: 'Open in catalog' }).click();
  await expect(page).toHaveURL(/\/catalog\/default\/component\/order-history$/);
  await expect(page.getByRole('heading', { name: 'order-history' })).toBeVisible();

  // The run is among the developer's recent runs.
  await page.goto(`${portal}/create`);
  await expect(page.getByTestId('recent-runs')).toContainText('Rust HTTP service');
  await expect(page.getByTestId('recent-runs').locator('[data-status=completed]')).toHaveCount(1);

  // "Run it again" starts from this run's answers.
  await page.getByTestId('recent-runs').getByRole('link', { name: /Rust HTTP service/ }).first().click();
  await page.getByRole('link', { name: 'Run it again' }).click();
  await expect(page).toHaveURL(/\/create\/templates\/default\/rust-service\?from=[0-9a-f-]+$/);
  await expect(page.getByRole('textbox', { name: 'Name', exact: true })).toHaveValue('order-history');
  await expect(page.getByRole('combobox', { name: /Owner/ })).toHaveValue('group:default/platform-core');
  expect(errors).toEqual([]);
});

test('a run is followed live: its steps and log move without a reload', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page);
  await page.goto(`${portal}/create/templates/default/e2e-slow`);
  await hydrated(page);
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('e2e');
  await page.getByLabel('Flavour').selectOption('plain');
  await page.getByLabel('Token').fill('s3cret-value');
  // "Fancy options" applies only to fancy answers: Next goes straight to the review.
  await page.getByRole('button', { name: 'Review', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Review' })).toBeVisible();
  await expect(page.locator('.wizard-steps li')).toHaveCount(2);
  await expect(page.locator('.review-table')).toContainText('••••••••');
  await expect(page.locator('body')).not.toContainText('s3cret-value');
  await page.getByRole('button', { name: 'Create', exact: true }).click();

  await page.waitForURL(/\/create\/tasks\//);
  await hydrated(page);
  await mark(page);
  const status = page.getByTestId('run-status');
  await expect(status).toHaveAttribute('data-status', /open|processing/);
  await expect(page.getByTestId('run-steps').locator('.step-processing')).toContainText('Take a moment');
  await expect(status).toHaveAttribute('data-status', 'completed', { timeout: 15_000 });
  await expect(page.getByTestId('run-log')).toContainText('hello e2e');
  await expect(page.getByTestId('run-output')).toContainText('Made e2e');
  expect(await marked(page)).toBe('same page');

  // One step's lines on their own.
  await page.getByRole('button', { name: 'Say hello' }).click();
  await expect(page.getByTestId('run-log').getByText('hello e2e')).toBeVisible();
  await expect(page.getByTestId('run-log').getByText(/started Slow checklist/)).toBeHidden();
  await page.getByRole('button', { name: 'Show every step' }).click();
  await expect(page.getByTestId('run-log').getByText(/started Slow checklist/)).toBeVisible();
  expect(errors).toEqual([]);
});

test('an author edits a template, sees its form change, and dry-runs it', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page);
  await page.goto(`${portal}/create/edit`);
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Template editor' })).toBeVisible();
  const text = page.getByLabel('Template (YAML)');
  await expect(text).toHaveValue(/name: my-golden-path/);
  await expect(page.getByRole('heading', { name: 'About the component' })).toBeVisible();

  // A broken text says where it is wrong, and the form stays as it was.
  const starter = await text.inputValue();
  await text.fill(starter.replace('      action: debug:log\n', ''));
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.locator('#editor-problems')).toContainText('spec.steps[1]');
  await expect(page.getByRole('heading', { name: 'About the component' })).toBeVisible();

  // A change shows in the form once applied, here with Ctrl+Enter.
  await text.fill(starter.replace('title: About the component', 'title: Tell us about it'));
  await text.press('Control+Enter');
  await expect(page.getByRole('heading', { name: 'Tell us about it' })).toBeVisible();
  await expect(page.locator('#editor-problems')).toBeEmpty();

  // Filled in and reviewed, a draft is dry-run, never created.
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('ledger');
  await page.getByRole('combobox', { name: /Owner/ }).fill('group:default/platform-core');
  await page.getByRole('button', { name: 'Review', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Review' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Create', exact: true })).toHaveCount(0);
  await page.getByRole('button', { name: 'Dry run' }).click();
  const preview = page.locator('#preview');
  await expect(preview).toContainText('1 file would be written');
  await preview.locator('.file-tree').getByText('catalog-info.yaml', { exact: true }).click();
  await expect(preview).toContainText('name: ledger');
  await expect(preview.locator('.preview-log')).toContainText('Wrote catalog-info.yaml for ledger');

  // From a catalog template: its text, its form, and its skeleton read next to it.
  await page.goto(`${portal}/create/templates/default/static-site`);
  await hydrated(page);
  await page.getByRole('link', { name: 'Open in the editor' }).click();
  await expect(page).toHaveURL(/\/create\/edit\?from=template%3Adefault%2Fstatic-site$/);
  await hydrated(page);
  await expect(page.getByLabel('Start from')).toHaveValue('template:default/static-site');
  const site = await text.inputValue();
  expect(site).toContain('name: static-site');
  expect(site).not.toContain('managed-by');
  await text.fill(site.replace('title: Heading', 'title: Page heading'));
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByRole('textbox', { name: 'Page heading' })).toBeVisible();
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('trail-guides');
  await page.getByRole('textbox', { name: 'Page heading' }).fill('Trail guides');
  await page.getByRole('combobox', { name: /Owner/ }).fill('group:default/platform-core');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('heading', { name: 'Repository' })).toBeVisible();
  await page.locator('#field-repoUrl-owner').fill('web');
  await page.locator('#field-repoUrl-repo').fill('trail-guides');
  await page.getByRole('button', { name: 'Review', exact: true }).click();
  await page.getByRole('button', { name: 'Dry run' }).click();
  await expect(preview).toContainText('5 files would be written');
  const tree = preview.locator('.file-tree');
  await expect(tree.locator('.tree-dir > details > summary').first()).toHaveText('.github/');
  await tree.getByText('index.html', { exact: true }).click();
  await expect(preview).toContainText('Trail guides');
  await expect(preview.locator('.preview-log')).toContainText('Create the repository');
  // Nothing was made: no repository, no entity.
  const entity = await page.request.get(`${portal}/api/catalog/entities/by-name/component/default/trail-guides`);
  expect(entity.status()).toBe(404);
  expect(errors).toEqual([]);
});

test('unknown templates and runs answer 404 with a way back', async ({ page }) => {
  await signIn(page);
  const template = await page.goto(`${portal}/create/templates/default/no-such-thing`);
  expect(template?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'No such golden path' })).toBeVisible();
  const run = await page.goto(`${portal}/create/tasks/00000000-0000-0000-0000-000000000000`);
  expect(run?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'No such run' })).toBeVisible();
  await page.getByRole('link', { name: 'Golden paths and your recent runs' }).click();
  await expect(page).toHaveURL(/\/create$/);
});
