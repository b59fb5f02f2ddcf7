import { request } from 'node:https';
import { ManagedServiceIdentityClient, type ManagedServiceIdentityClientOptionalParams } from '@azure/arm-msi';
import type { AzureEmulator } from './server.ts';

// Helpers for tests that drive the emulator with the real @azure/arm-msi client (this repo's and others').

export const SUB = '00000000-0000-0000-0000-000000000001';
export const RG = 'astro-rg';
export const MI = 'astro-mi';
export const ISSUER = 'https://westus2.oic.prod-aks.azure.com/tenant-id/cluster-id/';
export const AUDIENCE = 'api://AzureADTokenExchange';

export function subject(ns: string, sa: string): string {
  return `system:serviceaccount:${ns}:${ns}-${sa}-serviceaccount`;
}

/** The real client, pointed at the emulator the way FACTS.md documents (HTTPS + the emulator's CA). */
export function msiClient(
  emu: AzureEmulator,
  options: Partial<ManagedServiceIdentityClientOptionalParams> & { token?: string } = {},
): ManagedServiceIdentityClient {
  const { token = emu.token, ...rest } = options;
  const credential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) };
  return new ManagedServiceIdentityClient(credential, SUB, { endpoint: emu.url, tlsOptions: { ca: emu.ca }, ...rest });
}

interface SeenError {
  name: string;
  statusCode: number | undefined;
  code: string | undefined;
  message: string;
}

/** What callers get to see from a failed SDK call (a core-rest-pipeline RestError). */
export async function failure(promise: Promise<unknown>): Promise<SeenError> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { statusCode?: number; code?: string };
    return { name: e.name, statusCode: e.statusCode, code: e.code, message: e.message };
  }
  throw new Error('expected the call to fail');
}

/** Status of a successful SDK call (200 vs 201, 200 vs 204), which the flattened result hides. */
export async function withStatus<T>(
  call: (options: { onResponse: (raw: { status: number }) => void }) => Promise<T>,
): Promise<{ status: number | undefined; result: T }> {
  let status: number | undefined;
  const result = await call({
    onResponse: (raw) => {
      status = raw.status;
    },
  });
  return { status, result };
}

/** Raw HTTPS request, for shapes the SDK never sends (no Authorization header, no api-version). */
export function rawRequest(
  emu: AzureEmulator,
  path: string,
  headers: Record<string, string> = {},
  options: { method?: string; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; json: unknown }> {
  return new Promise((resolve, reject) => {
    const method = options.method ?? 'GET';
    const req = request(`${emu.url}${path}`, { method, ca: emu.ca, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          json: text === '' ? undefined : JSON.parse(text),
        });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export function collectionPath(identity = MI): string {
  return (
    `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/` +
    `${identity}/federatedIdentityCredentials`
  );
}
