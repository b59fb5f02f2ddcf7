import { parse as parseYaml } from 'yaml';
import { type Config, configFromDocument, parseJsonConfig } from './config.ts';
import { ValidationError } from './errors.ts';

/**
 * Parses a JSON or YAML config document; every problem is reported with the path of its field. Kept apart from
 * config.ts so a function whose config is JSON never loads the YAML parser (functions/common/intake-runtime.ts).
 */
export function parseConfig(text: string): Config {
  const json = parseJsonConfig(text);
  if (json !== undefined) return json;
  let document: unknown;
  try {
    document = parseYaml(text, { uniqueKeys: true, prettyErrors: true });
  } catch (error) {
    // The parser's message quotes the offending line, which may hold a token pasted into the config: say where and
    // what, never the text, and keep the parser's error (with the excerpt) out of the cause chain that logs print.
    throw new ValidationError(`the config is not valid JSON or YAML: ${describeSyntaxError(error)}`, {
      code: 'invalid_config',
    });
  }
  return configFromDocument(document);
}

function describeSyntaxError(error: unknown): string {
  const { code, linePos } = error as { code?: string; linePos?: ReadonlyArray<{ line: number; col: number }> };
  const at = linePos?.[0];
  const where = at === undefined ? '' : ` at line ${at.line}, column ${at.col}`;
  const what = (code ?? 'SYNTAX_ERROR').toLowerCase().replace(/_/g, ' ');
  return `${what}${where} (the text is not shown: it may hold a secret)`;
}
