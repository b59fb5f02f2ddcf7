import fc from 'fast-check';
import { signWebhook } from '../../shared/intake/webhook-signer.ts';
import { apiDeployment, deploymentEvent } from '../support/deployments.ts';

export interface HostileRequest {
  readonly kind: string;
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array;
}

/** Namespaces that must never reach a plan: wildcards, separators, paths, look-alikes, lengths, case. */
const hostileNamespace = fc.constantFrom(
  '*',
  'a:b',
  '../x',
  'ns/../../etc',
  'nebulаr-gravity', // Cyrillic "а"
  'ｎｓ', // full-width
  'x'.repeat(64),
  '',
  '-leading',
  'trailing-',
  'UPPER',
  'ns\u0000null',
  'ns with space',
  'system:serviceaccount:*:*',
);

const hostileIssuer = fc.constantFrom(
  'http://oidc.eks.us-east-1.amazonaws.com/id/ABC',
  'https://oidc.example.com/id/1?redirect=evil',
  'https://oidc.example.com/id/1#frag',
  'https://user:pass@oidc.example.com/',
  'ftp://oidc.example.com/',
  'not a url',
  'https://',
);

function signed(secret: string, body: string, at = new Date()): Record<string, string> {
  return signWebhook({ secret, id: `msg_${Math.random().toString(36).slice(2)}`, body, timestamp: at });
}

/** Every request this builds is invalid in exactly one way that a correct intake must refuse with a 4xx. */
export function hostileRequest(secret: string): fc.Arbitrary<HostileRequest> {
  const valid = JSON.stringify(deploymentEvent(apiDeployment()));
  return fc.oneof(
    fc.record({ ns: hostileNamespace }).map(({ ns }) => {
      const body = JSON.stringify(deploymentEvent(apiDeployment({ namespace: ns })));
      return { kind: `namespace ${JSON.stringify(ns)}`, headers: signed(secret, body), body };
    }),
    hostileIssuer.map((issuer) => {
      const body = JSON.stringify(deploymentEvent(apiDeployment({ oidcIssuerUrl: issuer })));
      return { kind: `issuer ${issuer}`, headers: signed(secret, body), body };
    }),
    // The secondary (DR) cluster's issuer gets the same checks as the primary one.
    hostileIssuer.map((issuer) => {
      const body = JSON.stringify(deploymentEvent(apiDeployment({ drOidcIssuerUrl: issuer })));
      return { kind: `DR issuer ${issuer}`, headers: signed(secret, body), body };
    }),
    fc
      .string({ maxLength: 200 })
      .map((junk) => ({ kind: 'random text, signed', headers: signed(secret, junk), body: junk })),
    fc.jsonValue({ maxDepth: 3 }).map((value) => {
      const body = JSON.stringify(value);
      return { kind: 'random JSON, signed', headers: signed(secret, body), body };
    }),
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => ({
      kind: 'random bytes, unsigned',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'msg_x',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,AAAA',
      },
      body: bytes,
    })),
    fc.string({ minLength: 1, maxLength: 60 }).map((signature) => ({
      kind: 'forged signature',
      headers: { ...signed(secret, valid), 'webhook-signature': signature },
      body: valid,
    })),
    fc.constantFrom('webhook-id', 'webhook-timestamp', 'webhook-signature').map((header) => {
      const headers = signed(secret, valid);
      delete headers[header];
      return { kind: `missing ${header}`, headers, body: valid };
    }),
    fc.integer({ min: 301, max: 86_400 * 365 }).chain((offset) =>
      fc.constantFrom(-1, 1).map((sign) => ({
        kind: `timestamp ${sign * offset}s off`,
        headers: signed(secret, valid, new Date(Date.now() + sign * offset * 1000)),
        body: valid,
      })),
    ),
    fc.string({ minLength: 1, maxLength: 12 }).map((ts) => ({
      kind: 'timestamp garbage',
      headers: { ...signed(secret, valid), 'webhook-timestamp': `${ts}x` },
      body: valid,
    })),
    fc
      .constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/jsonp', '', 'multipart/form-data')
      .map((type) => ({
        kind: `content-type ${type || 'missing'}`,
        headers: { ...signed(secret, valid), 'content-type': type },
        body: valid,
      })),
    fc.integer({ min: 0, max: valid.length - 2 }).map((at) => ({
      kind: 'tampered after signing',
      headers: signed(secret, valid),
      body: `${valid.slice(0, at)}${valid[at] === '1' ? '2' : '1'}${valid.slice(at + 1)}`,
    })),
    fc.constant(0).map(() => {
      const body = JSON.stringify({ ...deploymentEvent(apiDeployment()), padding: 'x'.repeat(270 * 1024) });
      return { kind: 'too large', headers: signed(secret, body), body };
    }),
    fc.constantFrom('deployment.exploded', 'DEPLOYMENT.CREATED', '').map((type) => {
      const body = JSON.stringify({ ...deploymentEvent(apiDeployment()), type });
      return { kind: `event type ${type}`, headers: signed(secret, body), body };
    }),
    fc.string({ minLength: 1, maxLength: 30 }).map((other) => {
      const body = JSON.stringify({
        ...deploymentEvent(apiDeployment()),
        data: { organizationId: 'clorg0000000000000000000', deploymentId: `x${other}`, deployment: apiDeployment() },
      });
      return { kind: 'deploymentId mismatch', headers: signed(secret, body), body };
    }),
  );
}
