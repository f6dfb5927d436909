import type { IConstruct } from 'constructs';
import { FileBase } from 'projen';
import type { FileBaseOptions } from 'projen';

/** What a renderer produces: comment lines under the projen marker, then the file's body. */
export interface RenderedContent {
  /** Notes for the reader, one line each, written as comments after the marker. */
  readonly notes: readonly string[];
  readonly body: string;
}

export interface RenderedFileOptions extends FileBaseOptions {
  /** The line-comment prefix of the file's language: `#` for YAML, `//` for Groovy. */
  readonly commentPrefix: '#' | '//';
}

/**
 * A generated file whose content is rendered at synthesis time (so stages added to the model after
 * the component was created still appear), opening with projen's "do not edit" marker.
 */
export class RenderedFile extends FileBase {
  private readonly commentPrefix: string;

  constructor(
    scope: IConstruct,
    filePath: string,
    private readonly render: () => RenderedContent,
    options: RenderedFileOptions,
  ) {
    super(scope, filePath, options);
    this.commentPrefix = options.commentPrefix;
  }

  protected synthesizeContent(): string {
    const content = this.render();
    const comment = (line: string) => (line.length === 0 ? this.commentPrefix : `${this.commentPrefix} ${line}`);
    const header = [...(this.marker ? [comment(this.marker)] : []), ...(content.notes.length > 0 ? ['', ...content.notes] : []).map((line) => comment(line))];
    // the marker stays a line of its own; notes follow after an empty comment line
    return `${[...header, '', content.body.trimEnd()].join('\n')}\n`;
  }
}
