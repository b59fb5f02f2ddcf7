/**
 * AWS rejects unsigned requests before anything else. The emulator checks that a SigV4 Authorization header is
 * present and well-formed but never verifies the signature (any dummy credentials work).
 */
interface AuthProblem {
  status: number;
  /** Error code in query-protocol (IAM/STS) XML. */
  queryCode: string;
  /** `__type` in JSON-protocol (EventBridge) bodies. */
  jsonType: string;
  message: string;
}

export function authorizationProblem(authorization: string | undefined, url = ''): AuthProblem | undefined {
  // Presigned (query-string) SigV4 is also authentication.
  if (authorization === undefined && /[?&]X-Amz-Signature=/.test(url)) return undefined;
  if (authorization === undefined || authorization.trim() === '') {
    return {
      status: 403,
      queryCode: 'MissingAuthenticationToken',
      jsonType: 'MissingAuthenticationTokenException',
      message: 'Request is missing Authentication Token',
    };
  }
  const missing: string[] = [];
  if (!authorization.startsWith('AWS4-HMAC-SHA256 ')) missing.push("Authorization header requires 'AWS4-HMAC-SHA256'.");
  for (const part of ['Credential', 'Signature', 'SignedHeaders']) {
    if (!new RegExp(`\\b${part}=[^,\\s]+`).test(authorization)) {
      missing.push(`Authorization header requires '${part}' parameter.`);
    }
  }
  if (missing.length === 0) return undefined;
  // Documented as 400 in the IAM common errors; the message lists every missing component like AWS does.
  return {
    status: 400,
    queryCode: 'IncompleteSignature',
    jsonType: 'IncompleteSignatureException',
    message: `${missing.join(' ')} Authorization=${authorization}`,
  };
}
