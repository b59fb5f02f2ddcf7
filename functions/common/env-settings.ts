import * as z from 'zod/mini';
import { ValidationError } from '../../shared/errors.ts';
import '../../shared/zod-english.ts';
import { parseWith } from '../../shared/zod-error.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Every environment variable the functions read, declared and validated in one place and read once per cold
 * start. (Secret references `env:NAME` in the config read the variable they name; that is the config's business.)
 * The README's "Function environment" table is checked against this list.
 */
export const ENVIRONMENT = {
  ASTRO_IDENTITY_SYNC_CONFIG: {
    clouds: 'all',
    meaning:
      'the config document (JSON or YAML), or a reference to where it is kept (aws-ssm:, aws-sm:, gcp-sm:, azure-kv:, env:NAME)',
  },
  LOG_LEVEL: { clouds: 'all', meaning: 'DEBUG, INFO (default), WARN, ERROR or SILENT' },
  ASTRO_IDENTITY_SYNC_CONNECT_TIMEOUT_MS: {
    clouds: 'all',
    meaning: 'ms to open a connection to any API the functions call (clouds, Astro, Slack); default 3000',
  },
  ASTRO_IDENTITY_SYNC_REQUEST_TIMEOUT_MS: {
    clouds: 'all',
    meaning: 'ms one HTTP attempt to any API may take before it counts as failed (retryable); default 10000',
  },
  ASTRO_IDENTITY_SYNC_FUNCTION_TIMEOUT_S: {
    clouds: 'all',
    meaning:
      'GCP and Azure: the function timeout in seconds, set by Terraform (those runtimes do not tell the code); work that cannot finish in it is handed back for retry. Default 60 (GCP), 600 (Azure)',
  },
  ASTRO_IDENTITY_SYNC_EVENT_BUS: { clouds: 'aws', meaning: 'the custom EventBridge bus the webhook publishes to' },
  ASTRO_IDENTITY_SYNC_LEASE_TABLE: {
    clouds: 'aws',
    meaning:
      'the DynamoDB table of the per-role write leases and the webhook replay records (Terraform sets it); unset: writes from different functions are not serialized',
  },
  AWS_REGION: {
    clouds: 'aws',
    meaning: 'set by Lambda; the region of the SDK clients (AWS_DEFAULT_REGION, then us-east-1)',
  },
  AWS_DEFAULT_REGION: { clouds: 'aws', meaning: 'fallback for AWS_REGION (workstations)' },
  AWS_LAMBDA_FUNCTION_NAME: {
    clouds: 'aws',
    meaning: 'set by Lambda; the `service` dimension of the metrics (astro-identity-sync-<function> outside Lambda)',
  },
  AWS_LAMBDA_INITIALIZATION_TYPE: {
    clouds: 'aws',
    meaning:
      'set by Lambda (on-demand, provisioned-concurrency, ...); where it is set, the cold start runs in the init phase, on its full vCPU',
  },
  POWERTOOLS_METRICS_DISABLED: {
    clouds: 'aws',
    meaning: 'true: write no metrics (each metric is a billed CloudWatch custom metric); the local stack sets it',
  },
  ASTRO_IDENTITY_SYNC_QUEUE_NAME: {
    clouds: 'azure',
    meaning: 'the Storage queue of the reconciler trigger (default astro-identity-sync-events)',
  },
  ASTRO_IDENTITY_SYNC_QUEUE_CONNECTION: {
    clouds: 'azure',
    meaning: 'the app setting holding the storage connection (default AzureWebJobsStorage)',
  },
  ASTRO_IDENTITY_SYNC_POLL_SCHEDULE: { clouds: 'azure', meaning: 'NCRONTAB of the poll timer; unset: no poll timer' },
  ASTRO_IDENTITY_SYNC_SWEEP_SCHEDULE: {
    clouds: 'azure',
    meaning: 'NCRONTAB of the sweep timer; unset: no sweep timer',
  },
  AZURE_CLIENT_ID: {
    clouds: 'azure',
    meaning: 'read by DefaultAzureCredential: the user-assigned identity of the function app, when it has several',
  },
  ASTRO_IDENTITY_SYNC_ASTRO_API_URL: { clouds: 'local', meaning: 'replaces astro.baseUrl (the Astro API emulator)' },
  ASTRO_IDENTITY_SYNC_HOUSTON_URL: {
    clouds: 'local',
    meaning: 'replaces https://houston.<software.baseDomain>/v1 (the Houston emulator)',
  },
  ASTRO_IDENTITY_SYNC_ASTRO_RETRY_MIN_MS: {
    clouds: 'local',
    meaning: 'first Astro API retry delay in ms (default 500)',
  },
  ASTRO_IDENTITY_SYNC_SLACK_API_URL: { clouds: 'local', meaning: 'the Slack Web API base URL (the Slack emulator)' },
  ASTRO_IDENTITY_SYNC_AWS_ENDPOINT: {
    clouds: 'local',
    meaning: 'one endpoint for every AWS client, with static dummy credentials (the AWS emulator)',
  },
  ASTRO_IDENTITY_SYNC_DYNAMODB_ENDPOINT: {
    clouds: 'local',
    meaning: 'the DynamoDB endpoint of the lease table (dynalite), with static dummy credentials',
  },
  ASTRO_IDENTITY_SYNC_GCP_ROOT_URL: { clouds: 'local', meaning: 'root URL of the Google APIs (the GCP emulator)' },
  ASTRO_IDENTITY_SYNC_GCP_ACCESS_TOKEN: {
    clouds: 'local',
    meaning: 'a fixed access token instead of Application Default Credentials',
  },
  ASTRO_IDENTITY_SYNC_GCP_RETRY_DELAY_MS: { clouds: 'local', meaning: 'fixed delay between Google API retries in ms' },
  ASTRO_IDENTITY_SYNC_AZURE_ENDPOINT: { clouds: 'local', meaning: 'the ARM endpoint (the Azure emulator), https only' },
  ASTRO_IDENTITY_SYNC_AZURE_KEY_VAULT_ENDPOINT: {
    clouds: 'local',
    meaning: 'replaces the origin of every azure-kv: vault URL (the Azure emulator), https only',
  },
  ASTRO_IDENTITY_SYNC_AZURE_CA: { clouds: 'local', meaning: 'PEM of a CA to trust for the Azure endpoints' },
  ASTRO_IDENTITY_SYNC_AZURE_TOKEN: {
    clouds: 'local',
    meaning: 'a fixed bearer token instead of DefaultAzureCredential',
  },
  ASTRO_IDENTITY_SYNC_AZURE_RETRY_DELAY_MS: { clouds: 'local', meaning: 'first ARM retry delay in ms (default 1000)' },
  ASTRO_IDENTITY_SYNC_AZURE_MAX_RETRIES: {
    clouds: 'local',
    meaning: 'ARM retries after the first attempt (default 3)',
  },
} as const satisfies Record<string, { clouds: 'all' | 'aws' | 'gcp' | 'azure' | 'local'; meaning: string }>;

const optional = z.pipe(
  z.optional(z.string()),
  z.transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim())),
);

function integer(min: number, max: number) {
  const message = `must be an integer from ${min} to ${max}`;
  return z.pipe(
    z.pipe(
      optional,
      z.transform((value) => (value === undefined ? undefined : Number(value))),
    ),
    z.optional(z.number(message).check(z.int(message), z.gte(min, message), z.lte(max, message))),
  );
}

function httpsUrl() {
  return z.pipe(
    optional,
    z.optional(
      z.pipe(
        z
          .url({ protocol: /^https$/, error: 'must be an https:// URL (the SDK sends bearer tokens over TLS only)' })
          .check(
            z.refine((value) => !new URL(value).username && !new URL(value).password, 'must not contain credentials'),
          ),
        z.transform((value) => value.replace(/\/+$/, '')),
      ),
    ),
  );
}

const settingsSchema = z.object({
  ASTRO_IDENTITY_SYNC_CONFIG: optional,
  LOG_LEVEL: z.pipe(
    optional,
    z.optional(
      z.pipe(
        z.pipe(
          z.string(),
          z.transform((value) => value.toUpperCase()),
        ),
        z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']),
      ),
    ),
  ),
  ASTRO_IDENTITY_SYNC_CONNECT_TIMEOUT_MS: integer(100, 60_000),
  ASTRO_IDENTITY_SYNC_REQUEST_TIMEOUT_MS: integer(100, 300_000),
  ASTRO_IDENTITY_SYNC_FUNCTION_TIMEOUT_S: integer(1, 3600),
  ASTRO_IDENTITY_SYNC_EVENT_BUS: optional,
  ASTRO_IDENTITY_SYNC_LEASE_TABLE: optional,
  AWS_REGION: optional,
  AWS_DEFAULT_REGION: optional,
  AWS_LAMBDA_FUNCTION_NAME: optional,
  AWS_LAMBDA_INITIALIZATION_TYPE: optional,
  POWERTOOLS_METRICS_DISABLED: optional,
  ASTRO_IDENTITY_SYNC_QUEUE_NAME: optional,
  ASTRO_IDENTITY_SYNC_QUEUE_CONNECTION: optional,
  ASTRO_IDENTITY_SYNC_POLL_SCHEDULE: optional,
  ASTRO_IDENTITY_SYNC_SWEEP_SCHEDULE: optional,
  AZURE_CLIENT_ID: optional,
  ASTRO_IDENTITY_SYNC_ASTRO_API_URL: z.pipe(optional, z.optional(z.url({ protocol: /^https?$/ }))),
  ASTRO_IDENTITY_SYNC_HOUSTON_URL: z.pipe(optional, z.optional(z.url({ protocol: /^https?$/ }))),
  ASTRO_IDENTITY_SYNC_ASTRO_RETRY_MIN_MS: integer(0, 60_000),
  ASTRO_IDENTITY_SYNC_SLACK_API_URL: z.pipe(optional, z.optional(z.url({ protocol: /^https?$/ }))),
  ASTRO_IDENTITY_SYNC_AWS_ENDPOINT: z.pipe(optional, z.optional(z.url({ protocol: /^https?$/ }))),
  ASTRO_IDENTITY_SYNC_DYNAMODB_ENDPOINT: z.pipe(optional, z.optional(z.url({ protocol: /^https?$/ }))),
  ASTRO_IDENTITY_SYNC_GCP_ROOT_URL: z.pipe(optional, z.optional(z.url({ protocol: /^https?$/ }))),
  ASTRO_IDENTITY_SYNC_GCP_ACCESS_TOKEN: optional,
  ASTRO_IDENTITY_SYNC_GCP_RETRY_DELAY_MS: integer(0, 60_000),
  ASTRO_IDENTITY_SYNC_AZURE_ENDPOINT: httpsUrl(),
  ASTRO_IDENTITY_SYNC_AZURE_KEY_VAULT_ENDPOINT: httpsUrl(),
  ASTRO_IDENTITY_SYNC_AZURE_CA: optional,
  ASTRO_IDENTITY_SYNC_AZURE_TOKEN: optional,
  ASTRO_IDENTITY_SYNC_AZURE_RETRY_DELAY_MS: integer(0, 60_000),
  ASTRO_IDENTITY_SYNC_AZURE_MAX_RETRIES: integer(0, 10),
} satisfies Record<keyof typeof ENVIRONMENT, z.ZodMiniType>);

type Raw = z.output<typeof settingsSchema>;

/** The functions' settings, typed; `env` keeps the raw environment for `env:NAME` secret references. */
export interface Settings {
  readonly env: Env;
  readonly configText: string;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** Every outbound call: connection and per-attempt limits (the SDKs' defaults wait forever). */
  readonly timeouts: TimeoutSettings;
  /** The platform's timeout for one invocation where the runtime cannot tell (GCP, Azure); undefined: the default. */
  readonly functionTimeoutMs: number | undefined;
  readonly astro: { readonly baseUrl: string | undefined; readonly retryMinMs: number | undefined };
  readonly houstonUrl: string | undefined;
  readonly slackApiUrl: string | undefined;
  readonly aws: {
    readonly region: string;
    readonly endpoint: string | undefined;
    readonly eventBus: string | undefined;
    /** The DynamoDB table of the write leases and replay records; undefined: none (see ENVIRONMENT). */
    readonly leaseTable: string | undefined;
    readonly dynamodbEndpoint: string | undefined;
  };
  readonly gcp: {
    readonly rootUrl: string | undefined;
    readonly accessToken: string | undefined;
    readonly retryDelayMs: number | undefined;
  };
  readonly azure: {
    readonly endpoint: string | undefined;
    readonly keyVaultEndpoint: string | undefined;
    readonly ca: string | undefined;
    readonly token: string | undefined;
    readonly retryDelayMs: number | undefined;
    readonly maxRetries: number | undefined;
    readonly queueName: string;
    readonly queueConnection: string;
    readonly pollSchedule: string | undefined;
    readonly sweepSchedule: string | undefined;
  };
}

export interface TimeoutSettings {
  readonly connectMs: number;
  readonly requestMs: number;
}

export const DEFAULT_TIMEOUTS: TimeoutSettings = { connectMs: 3_000, requestMs: 10_000 };

export const CONFIG_VAR = 'ASTRO_IDENTITY_SYNC_CONFIG';

/** Reads and validates the environment; a bad value is a config error naming the variable. */
export function readSettings(env: Env, options: { requireConfig?: boolean } = {}): Settings {
  // The schema's keys are ENVIRONMENT's (`satisfies` checks both ways); reading them from the schema lets the
  // bundler drop ENVIRONMENT's descriptions, which only the README check reads.
  const picked = Object.fromEntries(Object.keys(settingsSchema.shape).map((name) => [name, env[name]]));
  const raw: Raw = parseWith(settingsSchema, picked, { code: 'invalid_config' });
  const configText = raw.ASTRO_IDENTITY_SYNC_CONFIG;
  if (configText === undefined && options.requireConfig !== false) {
    throw new ValidationError(`${CONFIG_VAR} is not set: give the config document (JSON or YAML)`, {
      code: 'invalid_config',
    });
  }
  return {
    env,
    configText: configText ?? '',
    logLevel: raw.LOG_LEVEL ?? 'INFO',
    timeouts: {
      connectMs: raw.ASTRO_IDENTITY_SYNC_CONNECT_TIMEOUT_MS ?? DEFAULT_TIMEOUTS.connectMs,
      requestMs: raw.ASTRO_IDENTITY_SYNC_REQUEST_TIMEOUT_MS ?? DEFAULT_TIMEOUTS.requestMs,
    },
    functionTimeoutMs:
      raw.ASTRO_IDENTITY_SYNC_FUNCTION_TIMEOUT_S === undefined
        ? undefined
        : raw.ASTRO_IDENTITY_SYNC_FUNCTION_TIMEOUT_S * 1000,
    astro: { baseUrl: raw.ASTRO_IDENTITY_SYNC_ASTRO_API_URL, retryMinMs: raw.ASTRO_IDENTITY_SYNC_ASTRO_RETRY_MIN_MS },
    houstonUrl: raw.ASTRO_IDENTITY_SYNC_HOUSTON_URL,
    slackApiUrl: raw.ASTRO_IDENTITY_SYNC_SLACK_API_URL,
    aws: {
      region: raw.AWS_REGION ?? raw.AWS_DEFAULT_REGION ?? 'us-east-1',
      endpoint: raw.ASTRO_IDENTITY_SYNC_AWS_ENDPOINT,
      eventBus: raw.ASTRO_IDENTITY_SYNC_EVENT_BUS,
      leaseTable: raw.ASTRO_IDENTITY_SYNC_LEASE_TABLE,
      dynamodbEndpoint: raw.ASTRO_IDENTITY_SYNC_DYNAMODB_ENDPOINT,
    },
    gcp: {
      rootUrl: raw.ASTRO_IDENTITY_SYNC_GCP_ROOT_URL,
      accessToken: raw.ASTRO_IDENTITY_SYNC_GCP_ACCESS_TOKEN,
      retryDelayMs: raw.ASTRO_IDENTITY_SYNC_GCP_RETRY_DELAY_MS,
    },
    azure: {
      endpoint: raw.ASTRO_IDENTITY_SYNC_AZURE_ENDPOINT,
      keyVaultEndpoint: raw.ASTRO_IDENTITY_SYNC_AZURE_KEY_VAULT_ENDPOINT,
      ca: raw.ASTRO_IDENTITY_SYNC_AZURE_CA,
      token: raw.ASTRO_IDENTITY_SYNC_AZURE_TOKEN,
      retryDelayMs: raw.ASTRO_IDENTITY_SYNC_AZURE_RETRY_DELAY_MS,
      maxRetries: raw.ASTRO_IDENTITY_SYNC_AZURE_MAX_RETRIES,
      queueName: raw.ASTRO_IDENTITY_SYNC_QUEUE_NAME ?? 'astro-identity-sync-events',
      queueConnection: raw.ASTRO_IDENTITY_SYNC_QUEUE_CONNECTION ?? 'AzureWebJobsStorage',
      pollSchedule: raw.ASTRO_IDENTITY_SYNC_POLL_SCHEDULE,
      sweepSchedule: raw.ASTRO_IDENTITY_SYNC_SWEEP_SCHEDULE,
    },
  };
}

/**
 * The log level for the logger made before the cold start (so the cold start itself can log); a bad value falls
 * back to INFO here and is reported by `readSettings` as a config error.
 */
export function logLevelOf(env: Env): Settings['logLevel'] {
  const level = env.LOG_LEVEL?.trim().toUpperCase();
  return level === 'DEBUG' || level === 'INFO' || level === 'WARN' || level === 'ERROR' || level === 'SILENT'
    ? level
    : 'INFO';
}

/**
 * What the metrics port needs, read apart from readSettings: the handlers build it at module load, before the cold
 * start reads (and may refuse) the rest of the environment, so a bad config still has its failure counted.
 */
export function metricsSettings(env: Env): { readonly disabled: boolean; readonly functionName: string | undefined } {
  return {
    disabled: /^(1|true|yes|on)$/i.test(env.POWERTOOLS_METRICS_DISABLED?.trim() ?? ''),
    functionName: env.AWS_LAMBDA_FUNCTION_NAME?.trim() || undefined,
  };
}

/**
 * Lambda's initialization type, read apart from readSettings like the metrics settings: the entry points decide at
 * module load whether to run the cold start in the init phase, before it reads (and may refuse) the rest.
 */
export function lambdaInitType(env: Env): string | undefined {
  return env.AWS_LAMBDA_INITIALIZATION_TYPE?.trim() || undefined;
}
