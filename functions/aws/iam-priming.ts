import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import type { Settings } from '../common/env-settings.ts';
import { awsClientConfig } from './aws-client-config.ts';
import { prime, primingConfig } from './sdk-priming.ts';

/** GetRole's answer as IAM words it (the query protocol's XML): a role whose trust policy is URL-encoded JSON. */
const PRIMED_ROLE = [
  '<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role>',
  '<Path>/</Path><RoleName>primed</RoleName><RoleId>AROAPRIMEDPRIMEDPRIMED</RoleId>',
  '<Arn>arn:aws:iam::000000000000:role/primed</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate>',
  '<AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D</AssumeRolePolicyDocument>',
  '</Role></GetRoleResult><ResponseMetadata><RequestId>primed</RequestId></ResponseMetadata></GetRoleResponse>',
].join('');

/** IAM's request path primed (see sdk-priming.ts): a GetRole, as every event's first read. */
export function primeIam(settings: Settings): Promise<void> {
  const client = new IAMClient({ ...awsClientConfig(settings), ...primingConfig(PRIMED_ROLE, 'text/xml') });
  return prime(client, (c) => c.send(new GetRoleCommand({ RoleName: 'primed' })));
}
