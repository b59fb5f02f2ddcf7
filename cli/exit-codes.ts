/** Exit codes, documented in the README: what a script calling the CLI can tell apart. */
export const EXIT_OK = 0;
/** `sync`: a target needs attention (denied, does not fit, blocked by a Deny, failed); the report says which. */
export const EXIT_ATTENTION = 1;
/** Invalid input: a flag, a file, the config; the message names it. */
export const EXIT_INVALID = 2;
/**
 * A valid plan that cannot be applied safely (does not fit, name conflict; `plan aws`: an explicit Deny in the trust
 * policy blocks a subject, so IAM would refuse it whatever is written); nothing is written.
 */
export const EXIT_UNSAFE = 3;
/** A service did not answer (the Astro API, a cloud API): nothing is wrong with the input; run it again later. */
export const EXIT_UNAVAILABLE = 4;
