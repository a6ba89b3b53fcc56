// The command an operator runs to restore one snapshot, as sagas, errors and commit statuses spell it out. It must
// stay the CLI's real syntax (src/cli/snapshots-command.ts).
export function restoreCommand(app: string, ts: string): string {
  return `norn snapshots ${app} restore ${ts} --yes`;
}
