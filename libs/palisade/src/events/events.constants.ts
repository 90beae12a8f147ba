/**
 * Injection token of the normalised `events` options (`NormalizedEventsOptions`), validated once
 * at startup.
 * @internal
 */
export const EVENTS_OPTIONS = Symbol('PALISADE_EVENTS_OPTIONS');

/**
 * Injection token of the settings that are allowed but weaken security ({@link InsecureSetting}
 * list), reported as `configuration.insecure` events at startup. Computed from every capability's
 * options at the library's root.
 * @internal
 */
export const INSECURE_SETTINGS = Symbol('PALISADE_INSECURE_SETTINGS');

/** One setting that is allowed but weakens security. @internal */
export interface InsecureSetting {
  /** The option's path, e.g. `auth.jwt.issuer`. */
  readonly option: string;
  /** What it weakens and the fix. */
  readonly message: string;
}
