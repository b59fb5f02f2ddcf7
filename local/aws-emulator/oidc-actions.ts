import { QueryError } from './query-error.ts';
import type { IamState } from './state.ts';
import type { XmlNode } from './xml.ts';

type Params = Record<string, string>;

/** `Name.member.1`, `Name.member.2`, ... as the query protocol sends a list. */
function listParam(params: Params, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; params[`${name}.member.${i}`] !== undefined; i++) out.push(params[`${name}.member.${i}`] as string);
  return out;
}

function providerXml(state: IamState, arn: string | undefined): XmlNode {
  if (arn === undefined) {
    throw new QueryError(
      400,
      'ValidationError',
      "1 validation error detected: Value null at 'openIDConnectProviderArn' failed to satisfy constraint: Member must not be null",
    );
  }
  const provider = state.principals.provider(arn);
  if (!provider) throw new QueryError(404, 'NoSuchEntity', `OpenIDConnect Provider not found for arn ${arn}`);
  return {
    ThumbprintList: provider.thumbprints.map((t) => ({ member: t })),
    CreateDate: provider.createDate,
    ClientIDList: provider.clientIds.map((c) => ({ member: c })),
    Url: provider.url,
  };
}

function createProvider(state: IamState, params: Params): XmlNode {
  const url = params.Url;
  if (url === undefined || !/^https:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(url)) {
    throw new QueryError(400, 'ValidationError', `The URL ${url ?? 'null'} is not a valid https URL`);
  }
  const thumbprints = listParam(params, 'ThumbprintList');
  if (thumbprints.some((t) => !/^[0-9a-fA-F]{40}$/.test(t))) {
    throw new QueryError(400, 'ValidationError', 'Thumbprints must be 40 hexadecimal characters');
  }
  const bare = url.replace(/^https:\/\//, '').replace(/\/$/, '');
  if (state.principals.providers.some((p) => p.url === bare)) {
    throw new QueryError(409, 'EntityAlreadyExists', `Provider with url ${url} already exists.`);
  }
  // Since 2023 IAM fetches the top intermediate CA's thumbprint itself; the list is optional.
  const provider = state.principals.addProvider(url, listParam(params, 'ClientIDList'), thumbprints);
  return { OpenIDConnectProviderArn: provider.arn };
}

/** The IAM OIDC provider actions, or undefined for any other action. */
export function oidcProviderAction(state: IamState, action: string, params: Params): { result: XmlNode } | undefined {
  switch (action) {
    case 'GetOpenIDConnectProvider':
      return { result: providerXml(state, params.OpenIDConnectProviderArn) };
    case 'CreateOpenIDConnectProvider':
      return { result: createProvider(state, params) };
    case 'ListOpenIDConnectProviders':
      return {
        result: { OpenIDConnectProviderList: state.principals.providers.map((p) => ({ member: { Arn: p.arn } })) },
      };
    default:
      return undefined;
  }
}
