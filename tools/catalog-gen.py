#!/usr/bin/env python3
"""Writes a synthetic Backstage catalog of about N entities, shaped like a real company.

Departments contain teams; teams own systems, components, APIs and resources and have
members; components belong to systems, provide and consume APIs and depend on
resources and other components. Seeded, so the same N gives the same catalog.
Files hold 100 documents each, like a large monorepo's catalog-info files.

    tools/catalog-gen.py 10000 /tmp/catalog-10k
"""

import argparse
import os
import random

LIFECYCLES = ["production", "production", "production", "experimental", "deprecated"]
COMPONENT_TYPES = ["service", "service", "service", "website", "library"]
API_TYPES = ["openapi", "openapi", "grpc", "asyncapi", "graphql"]
RESOURCE_TYPES = ["database", "queue", "bucket", "cache"]
TAGS = ["java", "go", "python", "typescript", "rust", "kafka", "postgres", "grpc", "pci", "gdpr"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", type=int)
    parser.add_argument("out")
    args = parser.parse_args()
    rng = random.Random(args.count)
    n = args.count

    departments = max(2, n // 5000)
    teams = max(6, n // 100)
    users = max(10, n // 20)
    domains = max(2, n // 2000)
    systems = max(4, n // 50)
    apis = n // 5
    resources = n // 10
    components = n - departments - teams - users - domains - systems - apis - resources

    docs = []

    def entity(kind, name, spec, description=None, tags=None):
        meta = [f"  name: {name}"]
        if description:
            meta.append(f"  description: {description}")
        if tags:
            meta.append("  tags: [" + ", ".join(tags) + "]")
        body = "\n".join(f"  {k}: {v}" for k, v in spec.items())
        docs.append(f"apiVersion: backstage.io/v1alpha1\nkind: {kind}\nmetadata:\n" + "\n".join(meta) + f"\nspec:\n{body}\n")

    team = lambda i: f"team-{i:05d}"
    for d in range(departments):
        children = [team(t) for t in range(teams) if t % departments == d]
        entity("Group", f"department-{d:03d}", {"type": "department", "children": "[" + ", ".join(children) + "]"})
    for t in range(teams):
        members = [f"user-{u:06d}" for u in range(users) if u % teams == t]
        entity("Group", team(t), {"type": "team", "parent": f"department-{t % departments:03d}",
                                  "children": "[]", "members": "[" + ", ".join(members) + "]"})
    for u in range(users):
        entity("User", f"user-{u:06d}", {"memberOf": f"[{team(u % teams)}]"})
    for d in range(domains):
        entity("Domain", f"domain-{d:04d}", {"owner": team(rng.randrange(teams))})
    system_owner = [rng.randrange(teams) for _ in range(systems)]
    for s in range(systems):
        entity("System", f"system-{s:05d}", {"owner": team(system_owner[s]), "domain": f"domain-{s % domains:04d}"})
    for a in range(apis):
        s = rng.randrange(systems)
        entity("API", f"api-{a:06d}", {"type": rng.choice(API_TYPES), "lifecycle": rng.choice(LIFECYCLES),
                                       "owner": team(system_owner[s]), "system": f"system-{s:05d}",
                                       "definition": "'openapi: 3.0.0'"},
               description=f"API {a} of system {s}")
    for r in range(resources):
        s = rng.randrange(systems)
        entity("Resource", f"resource-{r:06d}", {"type": rng.choice(RESOURCE_TYPES), "owner": team(system_owner[s]),
                                                 "system": f"system-{s:05d}"})
    for c in range(components):
        s = rng.randrange(systems)
        spec = {"type": rng.choice(COMPONENT_TYPES), "lifecycle": rng.choice(LIFECYCLES),
                "owner": team(system_owner[s]), "system": f"system-{s:05d}"}
        if apis:
            spec["providesApis"] = "[" + ", ".join(f"api-{rng.randrange(apis):06d}" for _ in range(rng.randint(0, 2))) + "]"
            spec["consumesApis"] = "[" + ", ".join(f"api-{rng.randrange(apis):06d}" for _ in range(rng.randint(0, 3))) + "]"
        deps = [f"resource:resource-{rng.randrange(resources):06d}" for _ in range(rng.randint(0, 2))] if resources else []
        if c > 0 and rng.random() < 0.5:
            deps.append(f"component:component-{rng.randrange(c):06d}")
        spec["dependsOn"] = "[" + ", ".join(deps) + "]"
        entity("Component", f"component-{c:06d}", spec, description=f"Component {c} of system {s}",
               tags=rng.sample(TAGS, rng.randint(0, 3)))

    os.makedirs(args.out, exist_ok=True)
    for i in range(0, len(docs), 100):
        with open(os.path.join(args.out, f"catalog-{i // 100:05d}.yaml"), "w") as f:
            f.write("---\n".join(docs[i:i + 100]))
    print(f"{len(docs)} entities in {(len(docs) + 99) // 100} files under {args.out}")


if __name__ == "__main__":
    main()
