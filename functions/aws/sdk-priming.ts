/**
 * Priming, as AWS describes it for SnapStart (run a request's code paths ahead of the first request): one command
 * sent through a throwaway client whose request handler answers from memory, so the SDK's request path (middleware
 * stack, endpoint rules and their cache, credentials, signing, the protocol's serializers and parsers) is compiled and
 * its caches filled during Lambda's init phase, on its full vCPU, instead of in the first invocation, on memory/1,769
 * of one. Nothing leaves the process: the handler never opens a socket, and the real clients share only the code and
 * the endpoint cache, whose entries depend on the region and endpoint settings alone.
 */

/**
 * The client settings of a priming client: its request handler answers every request with `body`, status 200, at
 * once, and a single attempt, so an answer the SDK cannot parse (after an SDK update) fails at once, not after backoff.
 */
export function primingConfig(body: string, contentType = 'application/x-amz-json-1.1') {
  const bytes = new TextEncoder().encode(body);
  const requestHandler = {
    handle: async () => ({
      response: {
        statusCode: 200,
        headers: { 'content-type': contentType, 'content-length': String(bytes.byteLength) },
        body: bytes,
      },
    }),
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
  return { requestHandler, maxAttempts: 1 };
}

/** Runs `send` once on `client` (built with `primingConfig`), then drops the client. */
export async function prime<Client extends { destroy(): void }>(
  client: Client,
  send: (client: Client) => Promise<unknown>,
): Promise<void> {
  try {
    await send(client);
  } finally {
    client.destroy();
  }
}
