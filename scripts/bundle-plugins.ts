import { dirname, join } from 'node:path';
import type { Plugin } from 'esbuild';

/**
 * zod re-exports every locale as `locales` (classic, core and mini; about 265 KB minified, a fifth of a Lambda bundle)
 * and esbuild cannot drop them: classic exports `z` as an object, and reading `z.locales.en` from zod/mini (as
 * shared/zod-english.ts does, mini registering no locale of its own) builds the whole namespace object. Only English
 * is ever used here, so the locale index resolves to English alone. If zod moves the file, nothing matches and the
 * bundle-size check fails.
 */
export const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(plugin) {
    plugin.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]v4[\\/](?:classic|core|mini)[\\/]/.test(args.importer)) return undefined;
      return { path: join(dirname(args.importer), '../locales/en.js'), namespace: 'zod-english-only' };
    });
    plugin.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/**
 * The credential providers the AWS SDK's default chain loads (lazily, with `await import()`) after `fromEnv`: SSO,
 * shared ini files, credential processes, web identity token files, container HTTP endpoints, console login. Lambda
 * always puts the function role's credentials in the environment, so `fromEnv` answers first and these never load;
 * bundled they cost about 115 KB per function (with the STS/SSO clients they carry). Each is replaced by a provider
 * that steps aside (tryNextLink), so a missing environment still ends in the SDK's own "Could not load credentials"
 * (after the instance-metadata provider, which stays). Setting AWS_PROFILE on a function would skip fromEnv: don't.
 */
export const LAMBDA_SKIPPED_CREDENTIAL_PROVIDERS: Readonly<Record<string, readonly string[]>> = {
  '@aws-sdk/credential-provider-sso': ['fromSSO', 'isSsoProfile', 'validateSsoProfile'],
  '@aws-sdk/credential-provider-ini': ['fromIni'],
  '@aws-sdk/credential-provider-process': ['fromProcess'],
  '@aws-sdk/credential-provider-web-identity': ['fromTokenFile', 'fromWebToken'],
  '@aws-sdk/credential-provider-http': ['fromHttp'],
  '@aws-sdk/credential-provider-login': ['fromLoginCredentials'],
};

export const lambdaEnvironmentCredentials: Plugin = {
  name: 'lambda-environment-credentials',
  setup(plugin) {
    const names = Object.keys(LAMBDA_SKIPPED_CREDENTIAL_PROVIDERS).map((n) => n.replace(/[/\\-]/g, '\\$&'));
    plugin.onResolve({ filter: new RegExp(`^(?:${names.join('|')})$`) }, (args) => ({
      path: args.path,
      namespace: 'lambda-environment-credentials',
    }));
    plugin.onLoad({ filter: /.*/, namespace: 'lambda-environment-credentials' }, (args) => {
      const exports = LAMBDA_SKIPPED_CREDENTIAL_PROVIDERS[args.path] ?? [];
      const skip = `() => async () => { throw Object.assign(new Error(${JSON.stringify(
        `${args.path} is not bundled: Lambda provides credentials in the environment (AWS_ACCESS_KEY_ID, ...)`,
      )}), { name: 'CredentialsProviderError', tryNextLink: true }); }`;
      const contents = exports
        .map((name) =>
          name.startsWith('is') || name.startsWith('validate')
            ? `export const ${name} = () => false;`
            : `export const ${name} = ${skip};`,
        )
        .join('\n');
      return { contents, loader: 'js' };
    });
  },
};

/**
 * pino's transports (`pino.transport()`, the `transport` option) run a worker thread through thread-stream; our
 * logger (functions/common/logger.ts) writes JSON lines to stdout and never uses one, but pino requires the module at
 * load, and with it thread-stream and node:worker_threads (about 12 KiB minified, and a built-in the function would
 * otherwise never load). Its `./transport` resolves to a stand-in that refuses, naming why.
 */
export const pinoWithoutTransports: Plugin = {
  name: 'pino-without-transports',
  setup(plugin) {
    plugin.onResolve({ filter: /^\.\/(?:lib\/)?transport$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]pino[\\/](?:pino\.js$|lib[\\/])/.test(args.importer)) return undefined;
      return { path: 'pino-transport', namespace: 'pino-without-transports' };
    });
    plugin.onLoad({ filter: /.*/, namespace: 'pino-without-transports' }, () => ({
      contents: `module.exports = function transport() { throw new Error('pino transports are not bundled: the functions log JSON lines to stdout'); };`,
      loader: 'js',
    }));
  },
};
