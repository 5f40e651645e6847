// The project's own modules form no import cycle: a cycle makes load order decide which binding is still undefined.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Prisma's generated client is not ours to arrange. */
const SKIP_DIRS = new Set(['node_modules', 'generated', '.git', '.stablerail']);
const SOURCE_DIRS = ['sdk', 'workflows', 'activities', 'workers', 'api', 'prisma', 'temporal-config', 'scripts', 'test'];

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** './x.js' written in source names './x.ts' on disk (NodeNext resolution). */
function resolveRelative(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  const candidates = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => c.endsWith('.ts') && existsSync(c));
}

/**
 * Static imports and re-exports of relative paths. Without `typeOnly`, only the value edges:
 * `import type` and all-`type` named imports are erased at runtime and cannot change load order.
 */
export function relativeImports(file: string, typeOnly: boolean): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
  const targets: string[] = [];
  for (const stmt of source.statements) {
    let specifier: ts.Expression | undefined;
    if (ts.isImportDeclaration(stmt)) {
      const clause = stmt.importClause;
      const named = clause?.namedBindings;
      const erased = !!clause && (clause.isTypeOnly
        || (!clause.name && !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)));
      if (erased && !typeOnly) continue;
      specifier = stmt.moduleSpecifier;
    } else if (ts.isExportDeclaration(stmt)) {
      if (!stmt.moduleSpecifier) continue;
      const clause = stmt.exportClause;
      const erased = stmt.isTypeOnly || (!!clause && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly));
      if (erased && !typeOnly) continue;
      specifier = stmt.moduleSpecifier;
    }
    if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) continue;
    const target = resolveRelative(file, specifier.text);
    if (target) targets.push(target);
  }
  return targets;
}

/** Tarjan's strongly connected components; every component of more than one module (or a self-import) is a cycle. */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

function projectFiles(): string[] {
  const files = SOURCE_DIRS.map((d) => join(ROOT, d)).filter((d) => existsSync(d)).flatMap((d) => sourceFiles(d));
  files.push(...readdirSync(ROOT).filter((n) => n.endsWith('.ts')).map((n) => join(ROOT, n)));
  assert.ok(files.length > 50, `walked only ${files.length} files`);
  return files;
}

const described = (found: string[][]) => `import cycles:\n${found.map((c) => c.join(' <-> ')).join('\n')}`;

/**
 * Type-only edges still to move, each in a file another change owns: `importer -> imported`.
 * The test fails once an edge is gone, so the list only shrinks.
 */
const TYPE_EDGES_PENDING = new Set(['api/payout-routes.ts -> api/routes.ts']);

describe('module layout', () => {
  it('has no import cycle among the project modules (static value imports of relative paths)', () => {
    const graph = new Map(projectFiles().map((f) => [f, relativeImports(f, false)]));
    const found = cycles(graph).map((c) => c.map((f) => relative(ROOT, f)));
    assert.deepEqual(found, [], described(found));
  });

  it('has no cycle through type-only imports either: shared types live in the module that owns them', () => {
    const graph = new Map<string, string[]>();
    const pendingSeen = new Set<string>();
    for (const f of projectFiles()) {
      graph.set(f, relativeImports(f, true).filter((t) => {
        const edge = `${relative(ROOT, f)} -> ${relative(ROOT, t)}`;
        if (!TYPE_EDGES_PENDING.has(edge)) return true;
        pendingSeen.add(edge);
        return false;
      }));
    }
    assert.deepEqual([...TYPE_EDGES_PENDING].filter((e) => !pendingSeen.has(e)), [], 'a pending edge is gone: drop it from TYPE_EDGES_PENDING');
    const found = cycles(graph).map((c) => c.map((f) => relative(ROOT, f)));
    assert.deepEqual(found, [], described(found));
  });
});
