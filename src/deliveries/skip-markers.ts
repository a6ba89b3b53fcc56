// Commit-message markers that ask for a push not to deploy. Matched case-insensitively anywhere in the head
// commit's message, as Woodpecker and GitHub Actions do for [skip ci].
const MARKERS = ['[skip ci]', '[ci skip]', '[skip deploy]', '[no deploy]'];

export function skipMarker(message: string): string | undefined {
  const lower = message.toLowerCase();
  return MARKERS.find((m) => lower.includes(m));
}
