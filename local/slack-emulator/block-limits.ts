/**
 * Slack's Block Kit limits, checked the way Slack refuses a message: the whole message fails with `invalid_blocks`.
 * Kept separate from shared/report/slack-blocks.ts on purpose: the emulator is the independent oracle the formatter is
 * tested against, so it must not import the formatter's own constants.
 *
 * Lengths are UTF-16 code units (`String#length`), which never undercount Slack's characters: the emulator is at
 * least as strict as Slack, never more lenient.
 */
const MAX_BLOCKS = 50;
const MAX_SECTION_TEXT = 3000;
const MAX_SECTION_FIELDS = 10;
const MAX_FIELD_TEXT = 2000;
const MAX_HEADER_TEXT = 150;
const MAX_CONTEXT_ELEMENTS = 10;

interface BlocksProblem {
  /** The Slack error code: `invalid_blocks_format` when not an array of objects, `invalid_blocks` for a limit. */
  readonly code: 'invalid_blocks' | 'invalid_blocks_format';
  /** Slack-style detail with a JSON pointer, returned in `errors` so a failing test says which block is wrong. */
  readonly detail: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function textOf(value: unknown): string | undefined {
  return isRecord(value) && typeof value.text === 'string' ? value.text : undefined;
}

function tooLong(pointer: string, text: string | undefined, max: number): BlocksProblem | undefined {
  if (text === undefined || text.length === 0) {
    return { code: 'invalid_blocks', detail: `must be a non-empty text object [json-pointer:${pointer}]` };
  }
  if (text.length > max) {
    return { code: 'invalid_blocks', detail: `must be less than ${max + 1} characters [json-pointer:${pointer}]` };
  }
  return undefined;
}

function checkBlock(block: Record<string, unknown>, pointer: string): BlocksProblem | undefined {
  switch (block.type) {
    case 'header': {
      const text = isRecord(block.text) ? block.text : undefined;
      if (text?.type !== 'plain_text') {
        return { code: 'invalid_blocks', detail: `header text must be plain_text [json-pointer:${pointer}/text]` };
      }
      return tooLong(`${pointer}/text/text`, textOf(text), MAX_HEADER_TEXT);
    }
    case 'section': {
      if (block.text === undefined && block.fields === undefined) {
        return { code: 'invalid_blocks', detail: `section needs text or fields [json-pointer:${pointer}]` };
      }
      if (block.text !== undefined) {
        const problem = tooLong(`${pointer}/text/text`, textOf(block.text), MAX_SECTION_TEXT);
        if (problem) return problem;
      }
      if (block.fields !== undefined) {
        if (!Array.isArray(block.fields) || block.fields.length > MAX_SECTION_FIELDS) {
          return {
            code: 'invalid_blocks',
            detail: `at most ${MAX_SECTION_FIELDS} fields [json-pointer:${pointer}/fields]`,
          };
        }
        for (const [index, item] of block.fields.entries()) {
          const problem = tooLong(`${pointer}/fields/${index}/text`, textOf(item), MAX_FIELD_TEXT);
          if (problem) return problem;
        }
      }
      return undefined;
    }
    case 'context': {
      const elements = block.elements;
      if (!Array.isArray(elements) || elements.length === 0 || elements.length > MAX_CONTEXT_ELEMENTS) {
        return {
          code: 'invalid_blocks',
          detail: `context needs 1 to ${MAX_CONTEXT_ELEMENTS} elements [json-pointer:${pointer}/elements]`,
        };
      }
      return undefined;
    }
    default:
      // Other block types are accepted unchecked: this project only sends the four above.
      return undefined;
  }
}

/** Why Slack would refuse `blocks`, or undefined when it would accept them. */
export function blocksProblem(blocks: unknown): BlocksProblem | undefined {
  if (!Array.isArray(blocks)) return { code: 'invalid_blocks_format', detail: 'blocks must be an array' };
  if (blocks.length > MAX_BLOCKS) {
    return { code: 'invalid_blocks', detail: `no more than ${MAX_BLOCKS} items allowed [json-pointer:/blocks]` };
  }
  for (const [index, block] of blocks.entries()) {
    const pointer = `/blocks/${index}`;
    if (!isRecord(block) || typeof block.type !== 'string') {
      return { code: 'invalid_blocks_format', detail: `block must be an object with a type [json-pointer:${pointer}]` };
    }
    const problem = checkBlock(block, pointer);
    if (problem) return problem;
  }
  return undefined;
}
