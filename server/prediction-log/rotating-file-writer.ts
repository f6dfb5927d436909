/**
 * Appends text to JSON-lines files in one directory, starting a new file when the current one would
 * pass a size or has been open too long. A file being written is named `….jsonl.partial` and renamed
 * to `….jsonl` when complete, so readers (the drift report) only ever see whole files.
 */
import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import * as path from 'node:path';

export interface RotatingFileWriterOptions {
  readonly directory: string;
  /** A file is complete once it holds this many bytes. */
  readonly maxFileBytes: number;
  /** A file is complete once it has been open this long (ms). */
  readonly maxFileAgeMs: number;
  /** Distinguishes writers sharing a directory (e.g. pod name or pid). */
  readonly instance: string;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

interface OpenFile {
  readonly handle: FileHandle;
  readonly partialPath: string;
  readonly finalPath: string;
  readonly openedAt: number;
  bytes: number;
}

export const COMPLETE_SUFFIX = '.jsonl';
export const PARTIAL_SUFFIX = '.jsonl.partial';

export class RotatingFileWriter {
  private file: OpenFile | undefined;
  private sequence = 0;

  constructor(private readonly options: RotatingFileWriterOptions) {}

  /** Appends `text` (whole lines), rotating first when it would not fit or the file is too old. */
  async write(text: string): Promise<void> {
    const bytes = Buffer.byteLength(text);
    if (this.file && (this.file.bytes + bytes > this.options.maxFileBytes || this.isOld(this.file)) && this.file.bytes > 0) await this.completeFile();
    const file = this.file ?? (await this.openFile());
    await file.handle.write(text);
    file.bytes += bytes;
  }

  /** Completes the current file if it is too old (called on a timer, so an idle log still rotates). */
  async rotateIfOld(): Promise<void> {
    if (this.file && this.file.bytes > 0 && this.isOld(this.file)) await this.completeFile();
  }

  /** Completes the current file (an empty one is removed by completing it anyway: it is valid, empty JSONL). */
  async close(): Promise<void> {
    if (this.file) await this.completeFile();
  }

  private isOld(file: OpenFile): boolean {
    return this.options.now() - file.openedAt >= this.options.maxFileAgeMs;
  }

  private async openFile(): Promise<OpenFile> {
    await mkdir(this.options.directory, { recursive: true });
    const openedAt = this.options.now();
    const stamp = new Date(openedAt).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
    this.sequence += 1;
    const base = `predictions-${stamp}-${this.options.instance}-${String(this.sequence).padStart(4, '0')}`;
    const partialPath = path.join(this.options.directory, `${base}${PARTIAL_SUFFIX}`);
    const handle = await open(partialPath, 'wx');
    this.file = { handle, partialPath, finalPath: path.join(this.options.directory, `${base}${COMPLETE_SUFFIX}`), openedAt, bytes: 0 };
    return this.file;
  }

  private async completeFile(): Promise<void> {
    const file = this.file!;
    this.file = undefined;
    await file.handle.close();
    await rename(file.partialPath, file.finalPath);
  }
}
