// docs/infraspec.md documents every field the schema accepts: the schema is walked, so a field added to it without
// a line in the reference fails here. Each field must appear in backticks with its full path, records written
// as `<name>` (`processes.<name>.port`) and list items as `[]` (`endpoints[].url`).
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { infraspecSchema } from '../../../src/apps/infraspec-schema.js';

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'infraspec.md');

type Def = { type?: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType; shape?: Record<string, z.core.$ZodType>; valueType?: z.core.$ZodType; element?: z.core.$ZodType };

function unwrap(node: z.core.$ZodType): Def {
  let def = node._zod.def as Def;
  while (def.innerType || (def.type === 'pipe' && def.in)) def = (def.innerType ?? def.in)!._zod.def as Def;
  return def;
}

/** Every field path below `node`: objects by key, records of mappings as `<name>`, lists of mappings as `[]`. */
function fieldPaths(node: z.core.$ZodType, prefix: string): string[] {
  const def = unwrap(node);
  if (def.type === 'object' && def.shape) {
    return Object.entries(def.shape).flatMap(([key, child]) => {
      const at = prefix ? `${prefix}.${key}` : key;
      return [at, ...fieldPaths(child, at)];
    });
  }
  if (def.type === 'record' && def.valueType && unwrap(def.valueType).type === 'object') {
    return [`${prefix}.<name>`, ...fieldPaths(def.valueType, `${prefix}.<name>`)];
  }
  if (def.type === 'array' && def.element && unwrap(def.element).type === 'object') return fieldPaths(def.element, `${prefix}[]`);
  return [];
}

describe('docs/infraspec.md', () => {
  const doc = fs.readFileSync(DOC, 'utf8');
  const paths = fieldPaths(infraspecSchema, '');

  it('walks the whole schema (sanity check of the walk itself)', () => {
    expect(paths).to.include.members(['name', 'repo.url', 'processes.<name>.health.interval', 'endpoints[].url', 'infrastructure.objectStorage.buckets[].env']);
    expect(paths.length).to.be.greaterThan(70);
  });

  it('documents every field the schema accepts, with its full path', () => {
    const missing = paths.filter((p) => !doc.includes(`\`${p}\``));
    expect(missing, `add these fields to docs/infraspec.md: ${missing.join(', ')}`).to.deep.equal([]);
  });

  it('has the "Coming from Norn" section, and the README links to the reference', () => {
    expect(doc).to.include('## Coming from Norn');
    const readme = fs.readFileSync(path.resolve(path.dirname(DOC), '..', 'README.md'), 'utf8');
    expect(readme).to.include('(docs/infraspec.md)');
  });
});
