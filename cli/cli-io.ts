import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { ValidationError } from '../shared/errors.ts';

/** What the CLI touches outside itself, so tests can run it in-process as well as through the real binary. */
export interface CliIo {
  stdout(chunk: string): void;
  stderr(chunk: string): void;
  /** Reads a file argument; `-` is standard input. */
  readInput(path: string, flag: string): Promise<string>;
}

export function processIo(): CliIo {
  return {
    stdout: (chunk) => process.stdout.write(chunk),
    stderr: (chunk) => process.stderr.write(chunk),
    readInput: (path, flag) => readInputFile(path, flag, () => text(process.stdin)),
  };
}

export async function readInputFile(path: string, flag: string, readStdin: () => Promise<string>): Promise<string> {
  try {
    return path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message;
    throw new ValidationError(`cannot read "${path}": ${reason}`, { field: flag, cause });
  }
}

/**
 * Reads a document argument that must have content. An empty pipe (the command before `|` failed or printed nothing)
 * or an empty file is said as such, instead of as the JSON parser's "Unexpected end of JSON input".
 */
export async function readDocument(io: CliIo, path: string, flag: string): Promise<string> {
  const text = await io.readInput(path, flag);
  if (text.trim() === '') {
    const where = path === '-' ? 'nothing arrived on standard input' : `"${path}" has no content`;
    throw new ValidationError(`the input is empty (${where})`, { field: flag });
  }
  return text;
}

export function parseJsonInput(text: string, flag: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ValidationError(`not valid JSON (${(cause as Error).message})`, { field: flag, cause });
  }
}

/** Ends a command with an exit code after it has printed its own output (e.g. a sync with failed targets). */
export class CliExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = 'CliExit';
  }
}
