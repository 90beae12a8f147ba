/**
 * Unknown option keys are errors, never no-ops: a misspelled key (`roles.heirarchy`,
 * `throttle.storrage`) would otherwise leave the setting at its default without a word. Each
 * capability's normalizer checks the keys of its own objects with {@link assertKnownKeys}.
 */

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * The path of `key` inside the object at `path`: `roles.hierarchy`, `headers.paths['/docs']`, or
 * `key` alone at the top level.
 * @internal
 */
export function optionPath(path: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${path}[${JSON.stringify(key).replace(/^"|"$/g, "'")}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The known name closest to `name`, for a "did you mean" hint, or `undefined` when none is close.
 * Case is ignored; a name within a quarter of its length in edits (at least 1, at most 3, and
 * fewer than its length; a swap of two adjacent letters counts as one) is close, and so is one
 * contained in the other (`iss` → `issuer`, at least 3 letters). On a tie the first of `known` wins.
 *
 * @example
 * closestName('heirarchy', ['hierarchy', 'known']); // 'hierarchy'
 * @internal
 */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  const wanted = name.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(wanted.length / 4)));
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const lower = candidate.toLowerCase();
    const distance = editDistance(wanted, lower);
    let score = distance <= limit && distance < wanted.length ? distance : Number.POSITIVE_INFINITY;
    // A part of the other either way (a shortened or an extended name) ranks after every close spelling.
    if (score === Number.POSITIVE_INFINITY && Math.min(wanted.length, lower.length) >= 3 && (lower.includes(wanted) || wanted.includes(lower))) {
      score = limit + 1;
    }
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

/**
 * Refuses every own key of `value` that is not in `known`, naming its full path, the closest known
 * key and the known keys: `PalisadeModule: unknown option roles.heirarchy; did you mean
 * roles.hierarchy? Known options of roles: hierarchy, known.` `path` is the option path of `value`
 * (`''` at the top level); `component` prefixes the message.
 *
 * Only for objects whose keys are option names; maps whose keys are user data (role names, CSP
 * directives, path prefixes) keep their own validation.
 *
 * @example
 * assertKnownKeys(options.roles, ['hierarchy', 'known'], 'roles');
 * @internal
 */
export function assertKnownKeys(value: object, known: readonly string[], path: string, component = 'PalisadeModule'): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const suggestion = closestName(key, known);
    const hint = suggestion === undefined ? '.' : `; did you mean ${optionPath(path, suggestion)}?`;
    const list = known.length === 0 ? 'none' : known.join(', ');
    throw new Error(`${component}: unknown option ${optionPath(path, key)}${hint} Known options${path === '' ? '' : ` of ${path}`}: ${list}.`);
  }
}
