/**
 * Authorization options.
 *
 * @example
 * roles: { hierarchy: { admin: ['editor'], editor: ['user'] } } // admin ⇒ editor ⇒ user
 */
export interface RolesOptions {
  /**
   * Role hierarchy: each role maps to the roles it implies, transitively. Cycles are refused at
   * startup. A caller holding `admin` passes `@Roles('user')` when `admin` implies `user`.
   */
  hierarchy?: Readonly<Record<string, readonly string[]>>;
  /**
   * The complete list of role names. When set, a role in `hierarchy` or in any `@Roles(...)` that
   * is not listed stops the app at startup (catches typos such as `@Roles('admn')`).
   */
  known?: readonly string[];
}
