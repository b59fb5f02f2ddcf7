import * as z from 'zod/mini';
import './zod-english.ts';

/**
 * Allowlists fail closed: a pattern that could match another account's (or project's) resources, one that is broken,
 * or one that can never match is a config error naming it, never a silent "allow all" or "deny all". The account,
 * project or subscription part of each pattern must be written out; only the name after it may hold wildcards.
 */

const GLOB_CHARS = /[*?[\]{}!()+@]/;

/** Why a glob is broken (unbalanced brackets or braces), or undefined. */
function broken(pattern: string): string | undefined {
  let square = 0;
  let curly = 0;
  for (const c of pattern) {
    if (c === '[') square += 1;
    if (c === ']') square -= 1;
    if (c === '{') curly += 1;
    if (c === '}') curly -= 1;
    if (square < 0 || curly < 0) break;
  }
  return square !== 0 || curly !== 0 ? 'has an unbalanced [ ] or { }' : undefined;
}

interface Shape {
  /** The part that must be literal, and what the whole must look like. */
  readonly pinned: RegExp;
  readonly example: string;
  readonly what: string;
}

const SHAPES = {
  awsRole: {
    pinned: /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/(.+)$/,
    example: 'arn:aws:iam::123456789012:role/astro-*',
    what: 'an IAM role ARN pattern with its 12-digit account written out',
  },
  gcpServiceAccount: {
    pinned: /^([^@]+)@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$/,
    example: '*@acme-data.iam.gserviceaccount.com',
    what: 'a service account email pattern with its project written out',
  },
  gcpProject: {
    pinned: /^([a-z*?][a-z0-9*?-]{3,28}[a-z0-9*?])$/,
    example: 'acme-data',
    what: 'a project id (a prefix with * at most, such as acme-*)',
  },
  azureIdentity: {
    pinned: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\/([^/]+\/[^/]+)$/,
    example: '00000000-0000-0000-0000-000000000000/rg-astro/astro-*',
    what: '<subscription id>/<resource group>/<identity name> with the subscription written out',
  },
} as const satisfies Record<string, Shape>;

export type AllowlistShape = keyof typeof SHAPES;

/** Why this allowlist pattern is refused, or undefined when it is pinned and well formed. */
export function allowlistPatternProblem(shape: AllowlistShape, pattern: string): string | undefined {
  const { pinned, example, what } = SHAPES[shape];
  const problem = broken(pattern);
  if (problem !== undefined) return `"${pattern}" ${problem}`;
  const match = pinned.exec(pattern);
  if (match === null) return `"${pattern}" is not ${what} (e.g. ${example})`;
  const name = match[1] ?? '';
  if (shape === 'gcpProject') {
    if (/^[*?]+$/.test(name)) return `"${pattern}" allows every project; name the projects (e.g. ${example})`;
    if (GLOB_CHARS.test(name.replace(/[*?]/g, ''))) return `"${pattern}" is not ${what}`;
    return undefined;
  }
  // The account / project / group parts matched a literal-only expression; the name part may hold wildcards.
  if (name.trim() === '') return `"${pattern}" names no resource`;
  return undefined;
}

/** A list of allowlist patterns of one shape, validated per pattern with a message that names the pattern. */
export function allowlist(shape: AllowlistShape) {
  return z
    .array(
      z.string().check(
        z.minLength(1),
        z.maxLength(512),
        z.superRefine((pattern, ctx) => {
          const problem = allowlistPatternProblem(shape, pattern);
          if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: pattern });
        }),
      ),
    )
    .check(z.maxLength(500));
}
