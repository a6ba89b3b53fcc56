// Real bare repositories for tests: a bare "remote" and a working clone that commits and pushes to it.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export interface TestRepo {
  readonly root: string;
  readonly bareDir: string;
  readonly url: string;
  /** Writes files, commits and pushes to `branch`; returns the new commit's SHA. */
  commit(files: Record<string, string>, message?: string, branch?: string): string;
  /**
   * Like commit, but the push runs without blocking this process: needed when the bare repository's hook calls a
   * receiver that runs in this same process. Resolves with the SHA and what the hook told the pusher.
   */
  commitAndPush(files: Record<string, string>, message?: string, branch?: string): Promise<{ sha: string; remote: string }>;
  /** `git config` in the bare repository (e.g. the hook's norn.url). */
  gitConfig(key: string, value: string): void;
  remove(): void;
}

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 't@example.com' };

export function createTestRepo(name = 'app'): TestRepo {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-repo-'));
  const bareDir = path.join(root, `${name}.git`);
  const work = path.join(root, 'work');
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: gitEnv }).trim();
  git(root, 'init', '--quiet', '--bare', '-b', 'main', bareDir);
  git(root, 'init', '--quiet', '-b', 'main', work);

  const commitOnly = (files: Record<string, string>, message: string, branch: string): string => {
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
    return git(work, 'rev-parse', 'HEAD');
  };
  const pushArgs = (branch: string) => ['push', '--quiet', bareDir, `HEAD:refs/heads/${branch}`];

  return {
    root,
    bareDir,
    url: `file://${bareDir}`,
    commit(files, message = 'change', branch = 'main') {
      const sha = commitOnly(files, message, branch);
      git(work, ...pushArgs(branch));
      return sha;
    },
    async commitAndPush(files, message = 'change', branch = 'main') {
      const sha = commitOnly(files, message, branch);
      const { stderr } = await promisify(execFile)('git', pushArgs(branch), { cwd: work, env: gitEnv, encoding: 'utf8' });
      return { sha, remote: stderr };
    },
    gitConfig(key, value) {
      git(bareDir, 'config', key, value);
    },
    remove() {
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
