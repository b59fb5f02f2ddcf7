import { gaxios } from 'google-auth-library';

// The gaxios google-auth-library and gcp-metadata load (CommonJS): an `import from 'gaxios'` here could be its ES
// module twin, whose shared instance they never use.
const defaultGaxios = gaxios.instance;

let installed: number | undefined;

/**
 * A timeout for the requests Google's libraries send through gaxios' shared instance: the metadata server's token and
 * project lookups (gcp-metadata), which ask for no timeout at all once they detect Google Cloud. A metadata server
 * that accepts and never answers would otherwise hold the invocation to the function's timeout; with this, the
 * token fetch fails like any other timed-out call (retryable) and Pub/Sub delivers the event again. Only requests
 * that set no timeout get one. The instance is process-wide, so the first cold start's value holds.
 */
export function timeSharedGaxiosRequests(timeoutMs: number): void {
  if (installed !== undefined) return;
  installed = timeoutMs;
  defaultGaxios.interceptors.request.add({
    resolved: async (options) => {
      if (Number(options.timeout) > 0) return options;
      // The timeout signal is derived before interceptors run; set both, so retries (which re-derive it) keep it.
      options.timeout = timeoutMs;
      const timer = AbortSignal.timeout(timeoutMs);
      options.signal = options.signal ? AbortSignal.any([options.signal, timer]) : timer;
      return options;
    },
  });
}
