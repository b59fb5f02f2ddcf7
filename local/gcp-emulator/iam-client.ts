import { iam, type iam_v1 } from '@googleapis/iam';
import { gaxios, OAuth2Client } from 'google-auth-library';

/** The default bearer token of the emulator. */
export const EMULATOR_TOKEN = 'ya29.local-test-token';

/**
 * The real `@googleapis/iam` v1 client pointed at an emulator: an `OAuth2Client` holding a fixed access token (no
 * refresh token, so a 401 is not retried with a refreshed token) and `rootUrl` set to the emulator.
 */
export function iamClientFor(
  emulator: { readonly url: string },
  token: string = EMULATOR_TOKEN,
  extra: Partial<iam_v1.Options> = {},
): iam_v1.Iam {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: token });
  return iam({ ...extra, version: 'v1', rootUrl: emulator.url, auth });
}

/** The parts of a failed `@googleapis/iam` call that callers can rely on. */
interface GoogleCallError {
  /** `error instanceof gaxios.GaxiosError` (the class gaxios 7 throws for every non-2xx answer). */
  gaxios: boolean;
  /** `error.status`: the HTTP status. */
  status: number | undefined;
  /** `error.response.status`: the same HTTP status. */
  responseStatus: number | undefined;
  /** `error.code`: the body's numeric `error.code` (AIP-193), i.e. the HTTP status again, not the rpc name. */
  code: unknown;
  /** `error.message`: the body's `error.message`. */
  message: string;
  /** `error.cause.status`: the google.rpc code name, e.g. 'ABORTED', 'RESOURCE_EXHAUSTED'. */
  rpcStatus: unknown;
  /** `error.response.data`: the parsed `{ error: { code, message, status, details? } }` body. */
  body: { error?: { code?: number; status?: string; message?: string; details?: unknown[] } } | undefined;
}

/**
 * Runs a call that must fail and returns what it threw, in the shape observed with @googleapis/iam 38,
 * googleapis-common 8 and gaxios 7.
 */
export async function googleCallError(promise: Promise<unknown>): Promise<GoogleCallError> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & {
      status?: number;
      code?: unknown;
      cause?: { status?: unknown };
      response?: { status?: number; data?: GoogleCallError['body'] };
    };
    return {
      gaxios: error instanceof gaxios.GaxiosError,
      status: e.status,
      responseStatus: e.response?.status,
      code: e.code,
      message: e.message,
      rpcStatus: e.cause?.status,
      body: e.response?.data,
    };
  }
  throw new Error('expected the call to fail');
}
