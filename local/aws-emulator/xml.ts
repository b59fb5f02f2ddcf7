/** Minimal XML writer for the AWS query protocol (IAM, STS): responses and `ErrorResponse` envelopes. */

export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&apos;';
    }
  });
}

export type XmlValue = string | number | boolean | undefined | XmlNode | XmlNode[];
export interface XmlNode {
  [element: string]: XmlValue;
}

/** Serialises `{ A: 'x', B: { C: 1 } }` as `<A>x</A><B><C>1</C></B>`; undefined members are omitted. */
function toXml(node: XmlNode): string {
  let out = '';
  for (const [name, value] of Object.entries(node)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      out += `<${name}>${value.map(toXml).join('')}</${name}>`;
    } else if (typeof value === 'object') {
      out += `<${name}>${toXml(value)}</${name}>`;
    } else {
      out += `<${name}>${escapeXml(String(value))}</${name}>`;
    }
  }
  return out;
}

/** `<XResponse><XResult>...</XResult><ResponseMetadata>...` — actions without output omit the Result element. */
export function queryResponse(xmlns: string, action: string, result: XmlNode | undefined, requestId: string): string {
  const resultXml = result === undefined ? '' : `<${action}Result>${toXml(result)}</${action}Result>`;
  return (
    `<${action}Response xmlns="${xmlns}">${resultXml}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export type ErrorType = 'Sender' | 'Receiver';

export function queryError(xmlns: string, type: ErrorType, code: string, message: string, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${xmlns}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
