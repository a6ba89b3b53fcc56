// Fails when the top-level folders of src/ import each other in a cycle, so the layout keeps following the flow of
// a delivery (README "Architecture"). It reads every relative import (static, `export … from`, dynamic) with the
// TypeScript compiler's own pre-processor, folds files into their top-level folder (a file directly in src/ is its
// own node), and prints each cycle's folders with one example import per edge.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

type Graph = Map<string, Map<string, string>>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** `apps` for src/apps/…, `app.ts` for a file directly in src/. */
function folderOf(srcRoot: string, file: string): string | undefined {
  const relative = path.relative(srcRoot, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  return relative.split(path.sep)[0];
}

/** Folder → folder it imports → the first import seen for that edge ("file => specifier"). */
function folderGraph(srcRoot: string): Graph {
  const graph: Graph = new Map();
  for (const file of sourceFiles(srcRoot)) {
    const from = folderOf(srcRoot, file)!;
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const ref of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!ref.fileName.startsWith('.')) continue;
      const to = folderOf(srcRoot, path.resolve(path.dirname(file), ref.fileName));
      if (to === undefined || to === from || edges.has(to)) continue;
      edges.set(to, `${path.relative(srcRoot, file)} => ${ref.fileName}`);
    }
  }
  return graph;
}

/** Tarjan's strongly connected components with more than one folder: each is at least one cycle. */
function cycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node)?.keys() ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return found;
}

const srcRoot = path.resolve(process.argv[2] ?? 'src');
const graph = folderGraph(srcRoot);
const found = cycles(graph);
if (found.length === 0) {
  console.log(`check-folder-cycles: no import cycle between the top-level folders of ${path.relative(process.cwd(), srcRoot) || '.'}`);
} else {
  for (const component of found) {
    console.error(`import cycle between folders: ${component.join(', ')}`);
    for (const from of component) {
      for (const [to, example] of graph.get(from) ?? []) {
        if (component.includes(to)) console.error(`  ${from} -> ${to}   (${example})`);
      }
    }
  }
  console.error('README "Architecture" lists what each folder may import: move the shared part to a folder both may import, or pass it in.');
  process.exitCode = 1;
}
