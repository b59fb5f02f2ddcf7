import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO } from './terraform-files.ts';

/**
 * What the function code calls, read from the source: the permissions the Terraform roles must grant. Scanning
 * the TypeScript (rather than trusting a list) is what makes a new SDK call without a matching grant fail the tests.
 */

/** @aws-sdk client package -> IAM service prefix. A client missing here fails the test that meets it. */
const AWS_SERVICE_PREFIX: Record<string, string> = {
  '@aws-sdk/client-iam': 'iam',
  '@aws-sdk/client-sts': 'sts',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-secrets-manager': 'secretsmanager',
  '@aws-sdk/client-eventbridge': 'events',
  '@aws-sdk/client-sqs': 'sqs',
  '@aws-sdk/client-sns': 'sns',
  '@aws-sdk/client-kms': 'kms',
  '@aws-sdk/client-lambda': 'lambda',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/client-s3': 's3',
  '@aws-sdk/client-scheduler': 'scheduler',
  '@aws-sdk/client-cloudwatch-logs': 'logs',
};

export interface FoundAction {
  readonly action: string;
  readonly file: string;
  /** Only needed when the data is encrypted with a customer-managed key (kms:Decrypt). */
  readonly conditional?: boolean;
}

export function tsFilesUnder(dir: string): string[] {
  const abs = join(REPO, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(abs, { withFileTypes: true })) {
    const path = join(abs, entry.name);
    if (entry.isDirectory()) out.push(...tsFilesUnder(relative(REPO, path)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(relative(REPO, path));
  }
  return out.sort();
}

/** Strips comments so that a command named in a comment does not count as a call. */
function code(file: string): string {
  return readFileSync(join(REPO, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1');
}

/**
 * Repository files reachable from an entry point through value imports, static or `import()` (a chunk loaded on first
 * use still runs with the function's role); type-only imports carry no code.
 */
export function reachableFiles(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = code(file);
    for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?([^;]*?)\s+from\s+'(\.{1,2}\/[^']+\.ts)'/gm)) {
      if (m[2] !== undefined) continue;
      const target = m[4];
      if (target === undefined) continue;
      visit(relative(REPO, resolve(REPO, dirname(file), target)));
    }
    for (const m of text.matchAll(/\bimport\(\s*'(\.{1,2}\/[^']+\.ts)'\s*\)/g)) {
      const target = m[1];
      if (target !== undefined) visit(relative(REPO, resolve(REPO, dirname(file), target)));
    }
  };
  visit(entry);
  return [...seen].sort();
}

/**
 * A priming file (`*-priming.ts`, see functions/aws/sdk-priming.ts) sends its commands through clients whose request
 * handler answers from memory: nothing reaches AWS, so they need no grant. That holds only while every client the file
 * builds takes `primingConfig(`; a file that builds any other client is refused, not skipped.
 */
function isPrimingOnly(file: string, text: string): boolean {
  if (!file.endsWith('-priming.ts')) return false;
  const clients = [...text.matchAll(/new\s+[A-Z][A-Za-z0-9]*Client\s*\(\{([\s\S]*?)\}\)/g)];
  if (clients.length === 0) return false; // sdk-priming.ts itself: scanned like any file
  if (clients.some((m) => !(m[1] ?? '').includes('...primingConfig('))) {
    throw new Error(`${file}: a priming file builds its clients with primingConfig( only`);
  }
  return true;
}

/** IAM actions the AWS code performs: `new <Name>Command(` of an @aws-sdk client, and Powertools providers. */
export function awsActions(files: readonly string[]): FoundAction[] {
  const found: FoundAction[] = [];
  for (const file of files) {
    const text = code(file);
    if (isPrimingOnly(file, text)) continue;
    const packageOf = new Map<string, string>();
    for (const m of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'(@aws-sdk\/client-[a-z0-9-]+)'/g)) {
      for (const name of (m[1] ?? '').split(',')) {
        const clean = name
          .replace(/\btype\b/, '')
          .trim()
          .split(/\s+as\s+/)[0];
        if (clean) packageOf.set(clean, m[2] ?? '');
      }
    }
    for (const m of text.matchAll(/new\s+([A-Z][A-Za-z0-9]*)Command\s*\(/g)) {
      const command = m[1] ?? '';
      const pkg = packageOf.get(`${command}Command`);
      if (pkg === undefined) throw new Error(`${file}: new ${command}Command( is not imported from an @aws-sdk client`);
      const prefix = AWS_SERVICE_PREFIX[pkg];
      if (prefix === undefined)
        throw new Error(`${file}: add ${pkg} to AWS_SERVICE_PREFIX in test/infra/code-permissions.ts`);
      const action = `${prefix}:${command}`;
      found.push({ action, file, ...(CONFIG_GATED.has(action) ? { conditional: true } : {}) });
    }
    if (/new\s+SSMProvider\s*\(/.test(text)) {
      found.push({ action: 'ssm:GetParameter', file });
      if (/\.getMultiple\s*\(/.test(text)) found.push({ action: 'ssm:GetParametersByPath', file });
      if (/\.getParametersByName\s*\(/.test(text)) found.push({ action: 'ssm:GetParameters', file });
      if (/decrypt:\s*true/.test(text)) found.push({ action: 'kms:Decrypt', file, conditional: true });
    }
    if (/new\s+SecretsProvider\s*\(/.test(text)) {
      found.push({ action: 'secretsmanager:GetSecretValue', file });
      found.push({ action: 'kms:Decrypt', file, conditional: true });
    }
    for (const m of text.matchAll(/new\s+(AppConfigProvider|DynamoDBProvider)\s*\(/g)) {
      throw new Error(`${file}: ${m[1]} is not mapped to IAM actions in test/infra/code-permissions.ts`);
    }
  }
  return found;
}

/**
 * The DynamoDB item-key prefixes a set of files writes and reads (`export const <NAME>_PREFIX = 'lease#'` next to the
 * `new <Item>Command(` calls): the `dynamodb:LeadingKeys` a role must be limited to. Every file that calls DynamoDB
 * must name its prefix, or the scan cannot tell what the grant has to cover.
 */
export function dynamoKeyPrefixes(files: readonly string[]): string[] {
  const found = new Set<string>();
  for (const file of files) {
    if (!awsActions([file]).some((a) => a.action.startsWith('dynamodb:'))) continue;
    const prefixes = [...code(file).matchAll(/export\s+const\s+[A-Z_]+_PREFIX\s*=\s*'([a-z]+#)'/g)].map((m) => m[1]);
    if (prefixes.length === 0) throw new Error(`${file}: calls DynamoDB but exports no <NAME>_PREFIX of its item keys`);
    for (const prefix of prefixes) if (prefix !== undefined) found.add(prefix);
  }
  return [...found].sort();
}

/** Calls the code makes only when a setting allows it; Terraform grants them only behind the matching variable. */
const CONFIG_GATED = new Set(['iam:CreateOpenIDConnectProvider']);

/**
 * GCP permissions: the @googleapis/iam service-account policy calls (`projects.serviceAccounts.<method>(`), and in a
 * file that uses @googleapis/cloudresourcemanager its project calls (`.projects.<method>(`).
 */
export function gcpPermissions(files: readonly string[]): string[] {
  const found = new Set<string>();
  for (const file of files) {
    const text = code(file);
    for (const m of text.matchAll(/projects\.serviceAccounts\.([a-zA-Z]+)\s*\(/g)) {
      found.add(`iam.serviceAccounts.${m[1]}`);
    }
    if (!/from\s+'@googleapis\/cloudresourcemanager[/']/.test(text)) continue;
    for (const m of text.matchAll(/\.projects\.([a-zA-Z]+)\s*\(/g)) found.add(`resourcemanager.projects.${m[1]}`);
  }
  return [...found].sort();
}

/** Azure actions: @azure/arm-msi federatedIdentityCredentials operations (list/get read, createOrUpdate write, delete). */
export function azureActions(files: readonly string[]): string[] {
  const base = 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials';
  const verbs: Record<string, string> = { list: 'read', get: 'read', createOrUpdate: 'write', delete: 'delete' };
  const found = new Set<string>();
  for (const file of files) {
    const text = code(file);
    // The driver keeps `client.federatedIdentityCredentials` in a variable; follow that alias too.
    const aliases = ['federatedIdentityCredentials'];
    for (const m of text.matchAll(/(?:const|let)\s+(\w+)\s*=\s*[\w.]*\.federatedIdentityCredentials\b/g)) {
      if (m[1] !== undefined) aliases.push(m[1]);
    }
    for (const alias of aliases) {
      for (const m of text.matchAll(new RegExp(`\\b${alias}\\.(list|get|createOrUpdate|delete)\\s*\\(`, 'g'))) {
        const verb = verbs[m[1] ?? ''];
        if (verb !== undefined) found.add(`${base}/${verb}`);
      }
    }
  }
  return [...found].sort();
}

/** Function names registered in an entry file, e.g. `http('astroIdentitySync', ...)`. */
export function registeredNames(file: string, kinds: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  const pattern = new RegExp(`\\b(${kinds.join('|')})\\(\\s*'([^']+)'`, 'g');
  for (const m of code(file).matchAll(pattern)) if (m[2] !== undefined) names.set(m[2], m[1] ?? '');
  return names;
}
