/** @internal Injection token of the normalized options. */
export const PALISADE_OPTIONS = Symbol('PALISADE_OPTIONS');
