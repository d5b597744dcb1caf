import { expect, test } from '@playwright/test';
import { CatalogClient } from '@backstage/catalog-client';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// Backstage's own catalog client (the npm package its frontend and backend plugins use),
// unchanged, against Portico's catalog API and the --demo catalog, with a viewer token
// made by `portico token create` as a CI job would.

const baseUrl = `http://127.0.0.1:${process.env.PORTICO_E2E_PORT}`;
const token = execFileSync(
  process.env.PORTICO_BIN ?? '../target/release/portico',
  ['token', 'create', '--name', `catalog-client-${process.pid}`, '--role', 'viewer'],
  {
    env: { ...process.env, DATABASE_URL: `sqlite://${join(process.env.PORTICO_E2E_DATA!, 'portico.db')}`, RUST_LOG: 'warn' },
    encoding: 'utf8',
  },
).trim();
const client = new CatalogClient({
  discoveryApi: { getBaseUrl: async () => `${baseUrl}/api/catalog` },
  fetchApi: {
    fetch: (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('Authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    },
  },
});

test('entities by reference, case-insensitively, with relations', async () => {
  const entity = await client.getEntityByRef('component:default/product-service');
  expect(entity?.metadata.name).toBe('product-service');
  expect(entity?.relations).toContainEqual(
    expect.objectContaining({ type: 'ownedBy', targetRef: 'group:default/storefront' }),
  );
  expect(entity?.relations).toContainEqual(
    expect.objectContaining({ type: 'providesApi', targetRef: 'api:default/product-api' }),
  );
  const again = await client.getEntityByRef({ kind: 'COMPONENT', namespace: 'Default', name: 'Product-Service' });
  expect(again?.metadata.uid).toBe(entity?.metadata.uid);
  expect(await client.getEntityByRef('component:default/no-such-thing')).toBeUndefined();

  const byRefs = await client.getEntitiesByRefs({
    entityRefs: ['api:default/product-api', 'component:default/no-such-thing', 'group:default/payments'],
    fields: ['kind', 'metadata.name'],
  });
  expect(byRefs.items.map((e) => e && `${e.kind}:${e.metadata.name}`)).toEqual([
    'API:product-api',
    undefined,
    'Group:payments',
  ]);
});

test('queries page with cursors and offsets, filter, order and search', async () => {
  const first = await client.queryEntities({
    filter: { kind: 'API' },
    limit: 5,
    orderFields: { field: 'metadata.name', order: 'asc' },
    fields: ['metadata.name'],
  });
  expect(first.totalItems).toBe(18);
  const names = first.items.map((e) => e.metadata.name);
  expect(names).toEqual([...names].sort());
  expect(first.pageInfo.nextCursor).toBeTruthy();

  const second = await client.queryEntities({ cursor: first.pageInfo.nextCursor!, limit: 5 });
  expect(second.items).toHaveLength(5);
  expect(second.items[0].metadata.name > names[4]).toBe(true);
  const byOffset = await client.queryEntities({
    filter: { kind: 'API' },
    offset: 5,
    limit: 5,
    orderFields: { field: 'metadata.name', order: 'asc' },
  });
  expect(byOffset.items.map((e) => e.metadata.name)).toEqual(second.items.map((e) => e.metadata.name));

  // Alternatives and existence, as Backstage filters mean them.
  const domainsAndSystems = await client.queryEntities({ filter: [{ kind: 'Domain' }, { kind: 'System' }], limit: 100 });
  expect(domainsAndSystems.totalItems).toBe(3 + 9);

  const search = await client.queryEntities({ fullTextFilter: { term: 'product' }, limit: 10 });
  expect(search.items.length).toBeGreaterThan(0);
  expect(search.items[0].metadata.name).toContain('product');

  const list = await client.getEntities({ filter: { kind: 'Domain' }, fields: ['metadata.name'] });
  expect(list.items).toHaveLength(3);
});

test('facets, locations and validation', async () => {
  const { facets } = await client.getEntityFacets({
    facets: ['spec.lifecycle'],
    filter: { kind: 'Component' },
  });
  const total = facets['spec.lifecycle'].reduce((sum, f) => sum + f.count, 0);
  expect(total).toBe(46);
  expect(facets['spec.lifecycle']).toContainEqual({ value: 'production', count: 42 });

  const { items: locations } = await client.getLocations();
  expect(Array.isArray(locations)).toBe(true);

  const valid = await client.validateEntity(
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name: 'fresh' },
      spec: { type: 'service', lifecycle: 'experimental', owner: 'payments' },
    },
    'url:https://example.test/catalog-info.yaml',
  );
  expect(valid.valid).toBe(true);
  const invalid = await client.validateEntity(
    { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'bad name!' }, spec: {} },
    'url:https://example.test/catalog-info.yaml',
  );
  expect(invalid.valid).toBe(false);
  if (!invalid.valid) {
    expect(invalid.errors.map((e) => e.message).join('\n')).toContain('metadata.name');
  }
});
