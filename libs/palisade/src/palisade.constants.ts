/**
 * Injection token of the module's options after the root validation (`validateModuleOptions`: an
 * object without unknown keys): what every capability's options provider reads its own key from.
 * Override it in a testing module to change the options of every capability at once (as
 * `overridePalisadeOptions` of `@palisade/nest/testing` does).
 * @internal
 */
export const PALISADE_MODULE_OPTIONS = Symbol('PALISADE_MODULE_OPTIONS');
