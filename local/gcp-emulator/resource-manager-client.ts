import { cloudresourcemanager_v3 } from '@googleapis/cloudresourcemanager/build/v3.js';
import { OAuth2Client } from 'google-auth-library';
import { EMULATOR_TOKEN } from './iam-client.ts';

/**
 * The real `@googleapis/cloudresourcemanager` v3 client pointed at an emulator, built as the GCP function builds it:
 * an `OAuth2Client` holding a fixed access token and `rootUrl` set to the emulator (which serves Resource Manager
 * beside IAM). Failed calls throw what `googleCallError` (iam-client.ts) describes: both clients are gaxios 7.
 */
export function resourceManagerClientFor(
  emulator: { readonly url: string },
  token: string = EMULATOR_TOKEN,
  extra: Partial<cloudresourcemanager_v3.Options> = {},
): cloudresourcemanager_v3.Cloudresourcemanager {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: token });
  return new cloudresourcemanager_v3.Cloudresourcemanager({ ...extra, rootUrl: emulator.url, auth });
}
