import { type JsonReply, jsonError } from './eventbridge-actions.ts';

/**
 * SSM Parameter Store (GetParameter) and Secrets Manager (GetSecretValue) over JSON 1.1, enough for the functions
 * to resolve `aws-ssm:` and `aws-sm:` references through Powertools Parameters as they do in AWS.
 */
export class SecretStore {
  readonly parameters = new Map<string, { value: string; type: 'String' | 'SecureString'; version: number }>();
  readonly secrets = new Map<string, { value: string; version: string }>();

  putParameter(name: string, value: string, type: 'String' | 'SecureString' = 'SecureString'): void {
    const version = (this.parameters.get(name)?.version ?? 0) + 1;
    this.parameters.set(name, { value, type, version });
  }

  putSecret(name: string, value: string): void {
    this.secrets.set(name, { value, version: crypto.randomUUID() });
  }
}

const REGION_ACCOUNT = 'us-east-1:123456789012';

export function handleSecretAction(target: string, body: unknown, store: SecretStore): JsonReply {
  const params = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (target === 'AmazonSSM.GetParameter') {
    const name = String(params.Name ?? '');
    const parameter = store.parameters.get(name);
    if (parameter === undefined) return jsonError(400, 'ParameterNotFound', `Parameter ${name} not found.`);
    // Without WithDecryption a SecureString comes back encrypted, as in SSM.
    const value =
      parameter.type === 'SecureString' && params.WithDecryption !== true ? 'AQICAHi...encrypted' : parameter.value;
    return {
      status: 200,
      json: {
        Parameter: {
          Name: name,
          Type: parameter.type,
          Value: value,
          Version: parameter.version,
          ARN: `arn:aws:ssm:${REGION_ACCOUNT}:parameter/${name.replace(/^\//, '')}`,
          DataType: 'text',
        },
      },
    };
  }
  if (target === 'secretsmanager.GetSecretValue') {
    const id = String(params.SecretId ?? '');
    const secret = store.secrets.get(id);
    if (secret === undefined) {
      return jsonError(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    return {
      status: 200,
      json: {
        ARN: `arn:aws:secretsmanager:${REGION_ACCOUNT}:secret:${id}-AbCdEf`,
        Name: id,
        SecretString: secret.value,
        VersionId: secret.version,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: Math.floor(Date.now() / 1000),
      },
    };
  }
  return jsonError(400, 'UnknownOperationException', `Unknown target ${target}`);
}
