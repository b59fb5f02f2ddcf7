import { createHash, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import { RequestRejectedError } from '../errors.ts';
import '../zod-english.ts';
import { DEPLOYMENT_EVENT_TYPES, deploymentSchema } from './deployment.ts';
import { type HeaderBag, normalizeHeaders } from './webhook-verifier.ts';

/** A person or a pipeline asking to reconcile one Deployment now, optionally as a dry run. */
export const manualRequestSchema = z
  .strictObject({
    deployment: z.optional(deploymentSchema),
    deploymentId: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
    organizationId: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
    type: z._default(z.enum(DEPLOYMENT_EVENT_TYPES), 'deployment.updated'),
    dryRun: z._default(z.boolean(), false),
  })
  .check(
    z.refine((request) => (request.deployment === undefined) !== (request.deploymentId === undefined), {
      message: 'send exactly one of "deployment" (the Astro API object) or "deploymentId"',
    }),
  );

export type ManualRequest = z.output<typeof manualRequestSchema>;

/** Where the manual token may also travel when `Authorization` carries an AWS SigV4 signature (Function URL AWS_IAM). */
const MANUAL_TOKEN_HEADER = 'x-astro-identity-sync-token';

/**
 * Checks `Authorization: Bearer <token>` (or the token header) in constant time. Both sides are hashed first so
 * neither the length nor a prefix of the token leaks through timing.
 */
export function assertBearer(headers: HeaderBag, token: string): void {
  const normalized = normalizeHeaders(headers);
  const header = normalized[MANUAL_TOKEN_HEADER]
    ? `Bearer ${normalized[MANUAL_TOKEN_HEADER]}`
    : (normalized.authorization ?? '');
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  const digest = (value: string) => createHash('sha256').update(value).digest();
  if (!match?.[1] || !timingSafeEqual(digest(match[1]), digest(token))) {
    throw new RequestRejectedError(
      'unauthorized',
      `Missing or wrong manual token: send "Authorization: Bearer <token>" (or "${MANUAL_TOKEN_HEADER}: <token>" when the URL uses AWS_IAM auth).`,
    );
  }
}
