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
  } catch (cause) {
    throw new ValidationError(`the config is not valid JSON or YAML: ${(cause as Error).message}`, {
      code: 'invalid_config',
      cause,
    });
  }
  return configFromDocument(document);
}
