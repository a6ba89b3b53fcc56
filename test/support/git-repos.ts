// Real bare repositories for tests: a bare "remote" and a working clone that commits and pushes to it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestRepo {
  readonly root: string;
  readonly bareDir: string;
  readonly url: string;
  /** Writes files, commits and pushes to `branch`; returns the new commit's SHA. */
  commit(files: Record<string, string>, message?: string, branch?: string): string;
  remove(): void;
}

export function createTestRepo(name = 'app'): TestRepo {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-repo-'));
  const bareDir = path.join(root, `${name}.git`);
  const work = path.join(root, 'work');
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 't@example.com' } }).trim();
  git(root, 'init', '--quiet', '--bare', '-b', 'main', bareDir);
  git(root, 'init', '--quiet', '-b', 'main', work);
  return {
    root,
    bareDir,
    url: `file://${bareDir}`,
    commit(files, message = 'change', branch = 'main') {
      const current = git(work, 'symbolic-ref', '--short', 'HEAD');
      if (current !== branch) {
        const exists = git(work, 'branch', '--list', branch) !== '';
        git(work, 'checkout', '--quiet', ...(exists ? [branch] : ['-b', branch]));
      }
      for (const [file, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
        fs.writeFileSync(path.join(work, file), content);
      }
      git(work, 'add', '-A');
      git(work, 'commit', '--quiet', '--allow-empty', '-m', message);
      git(work, 'push', '--quiet', bareDir, `HEAD:refs/heads/${branch}`);
      return git(work, 'rev-parse', 'HEAD');
    },
    remove() {
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
