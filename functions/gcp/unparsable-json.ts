import { createRequire } from 'node:module';

type Middleware = (req: unknown, res: unknown, next: (error?: unknown) => void) => void;
type JsonParser = (options?: unknown) => Middleware;

let installed = false;

/**
 * The Functions Framework parses JSON bodies with body-parser before the function runs, and a body that is not JSON
 * never reaches it: Express answers with its own HTML error page and a stack trace (functions-framework-nodejs#686,
 * open). A webhook must answer `400 {"error": {"code": "invalid_input"}}` like AWS and Azure, and only after the
 * signature was checked on the raw bytes. So the framework's JSON parser is wrapped: a parse failure moves on
 * without a parsed body. `req.rawBody` is already set (the framework's verify hook runs before parsing), so the
 * function sees exactly the bytes that were sent and the intake answers in its usual order.
 *
 * Must run before the framework builds its server (it calls `bodyParser.json()` then); idempotent.
 */
export function deliverUnparsableJson(): void {
  if (installed) return;
  const require = createRequire(import.meta.url);
  const framework = require.resolve('@google-cloud/functions-framework');
  const bodyParser = createRequire(framework)('body-parser') as { json: JsonParser };
  const original = bodyParser.json;
  bodyParser.json = (options) => {
    const parse = original(options);
    return (req, res, next) =>
      parse(req, res, (error) => {
        const type = (error as { type?: unknown } | undefined)?.type;
        next(type === 'entity.parse.failed' ? undefined : error);
      });
  };
  installed = true;
}
