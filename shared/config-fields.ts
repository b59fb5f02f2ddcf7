import * as z from 'zod/mini';
import { COMPONENT_NAME } from './plan/components.ts';
import './zod-english.ts';

/** Field schemas the config sections share (config.ts, config-software.ts). */

/** Wraps a guardrail so zod reports its message at the field's own path. */
export function guarded(check: (value: string) => unknown) {
  return z.string().check(
    z.superRefine((value, ctx) => {
      try {
        check(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^[\w.]+: /, '') });
      }
    }),
  );
}

/**
 * Secrets never sit in the config itself: it holds references that the edge resolves at cold start.
 * `env:NAME`, `aws-sm:<secret id or ARN>`, `aws-ssm:<parameter name>`,
 * `gcp-sm:projects/<project id or number>/secrets/<secret id>[/versions/latest|<n>]`,
 * `azure-kv:https://<vault>.vault.azure.net/secrets/<name>[/<version>]` (also vault.azure.cn, vault.usgovcloudapi.net).
 * The GCP and Azure resolvers (functions/gcp/secret-manager-resolver.ts, functions/azure/key-vault-resolver.ts) parse
 * the same grammar.
 */
const GCP_SM_REF =
  'gcp-sm:projects/(?:[a-z][a-z0-9-]{4,28}[a-z0-9]|[1-9][0-9]{0,19})/secrets/[A-Za-z0-9_-]{1,255}(?:/versions/(?:latest|[1-9][0-9]{0,19}))?';
// Vault names: 3-24 letters, digits and single hyphens, starting with a letter, ending with a letter or digit.
const AZURE_KV_REF =
  'azure-kv:https://(?=[A-Za-z0-9-]{3,24}\\.)[A-Za-z](?:-?[A-Za-z0-9])+\\.(?:vault\\.azure\\.net|vault\\.azure\\.cn|vault\\.usgovcloudapi\\.net)/secrets/[0-9A-Za-z-]{1,127}(?:/[0-9a-fA-F]{32})?/?';
export const SECRET_REF = new RegExp(
  `^(?:env:[A-Za-z_][A-Za-z0-9_]*|aws-sm:\\S+|aws-ssm:\\S+|${GCP_SM_REF}|${AZURE_KV_REF})$`,
);
const SECRET_REF_FORMS: ReadonlyArray<readonly [prefix: string, form: string]> = [
  [
    'gcp-sm:',
    'must be gcp-sm:projects/<project id or number>/secrets/<secret id>, optionally followed by /versions/latest or /versions/<n> (project id: 6-30 lowercase letters, digits and hyphens; secret id: letters, digits, _ and -)',
  ],
  [
    'azure-kv:',
    'must be azure-kv:https://<vault>.vault.azure.net/secrets/<name>, optionally followed by /<version> (vault: 3-24 letters, digits and hyphens; name: letters, digits and hyphens; version: 32 hex digits; vault.azure.cn and vault.usgovcloudapi.net for sovereign clouds)',
  ],
];
// The message names the expected form and never echoes the value: a rejected "reference" may be a pasted secret.
export const secretRefSchema = z.string().check(
  z.superRefine((value, ctx) => {
    if (SECRET_REF.test(value)) return;
    const form = SECRET_REF_FORMS.find(([prefix]) => value.startsWith(prefix))?.[1];
    ctx.addIssue({
      code: 'custom',
      message:
        form ??
        'must be a secret reference: env:NAME, aws-sm:ID, aws-ssm:NAME, gcp-sm:projects/<project>/secrets/<secret>, or azure-kv:https://<vault>.vault.azure.net/secrets/<name>',
    });
  }),
);

export const globList = z.array(z.string().check(z.minLength(1), z.maxLength(512))).check(z.maxLength(500));
export const componentName = z
  .string()
  .check(z.regex(COMPONENT_NAME, 'must be a lowercase component name such as "scheduler"'));
export const componentList = z.array(componentName).check(z.minLength(1), z.maxLength(20));
