// `norn --help` is what an operator reads at the terminal; README's CLI tables are what they read first. Every verb
// the README shows must be in the help, with every option the README gives it, and the help must not understate
// what a verb changes.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { expect } from 'chai';

function readmeCliRows(): Map<string, Set<string>> {
  const readme = fs.readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('\n## CLI\n'), readme.indexOf('\n## Git and external errors\n'));
  const flagsByVerb = new Map<string, Set<string>>();
  for (const row of section.split('\n').filter((l) => l.startsWith('| `norn '))) {
    const firstCell = row.slice(2).split(/(?<!\\) \| /)[0]!;
    let verb: string | undefined;
    for (const [, span] of firstCell.matchAll(/`([^`]+)`/g)) {
      const named = /^norn ([a-z]+)/.exec(span!);
      if (named) verb = named[1]!;
      else if (!span!.startsWith('…')) continue;
      const flags = flagsByVerb.get(verb!) ?? new Set<string>();
      for (const [flag] of span!.matchAll(/--[a-z][a-z-]*/g)) flags.add(flag);
      flagsByVerb.set(verb!, flags);
    }
  }
  return flagsByVerb;
}

describe('norn --help and the README agree', function () {
  this.timeout(60_000);
  let help: Map<string, string>;

  before(() => {
    const text = execFileSync(process.execPath, ['--import', 'tsx', 'src/main.ts', '--help'], { encoding: 'utf8' });
    help = new Map(text.split('\n').flatMap((l) => {
      const m = /^ {2}([a-z]+) +(.*)$/.exec(l);
      return m ? [[m[1]!, m[2]!] as const] : [];
    }));
  });

  it('lists every verb the README shows, with every option the README gives it', () => {
    const readme = readmeCliRows();
    expect(readme.size, 'README CLI rows found').to.be.above(15);
    const missing: string[] = [];
    for (const [verb, flags] of readme) {
      const line = help.get(verb);
      if (line === undefined) {
        missing.push(`${verb}: not in norn --help`);
        continue;
      }
      for (const flag of flags) if (!line.includes(flag)) missing.push(`${verb}: ${flag} is in the README but not in norn --help`);
    }
    expect(missing).to.deep.equal([]);
  });

  it('says that teardown stops and removes the containers on the Docker runtime, as the README does', () => {
    expect(help.get('teardown')).to.match(/container/);
  });
});
