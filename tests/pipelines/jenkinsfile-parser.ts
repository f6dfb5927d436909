/**
 * A small, careful reader of declarative Jenkinsfiles, enough to compare one with the pipeline model:
 * it tokenizes Groovy (comments, single/double/triple-quoted strings, brackets), nests the `{ }`
 * blocks, and reads `pipeline { stages { stage('…') { … } } }`: each stage's `sh` commands, its
 * `when { branch … }` filter, its `input` approval and what it archives.
 */

type Token =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'word'; readonly value: string }
  | { readonly kind: 'punctuation'; readonly value: string };

/** A token, or a `{ … }` block of items. */
type Item = Token | { readonly kind: 'block'; readonly items: readonly Item[] };

export interface JenkinsStage {
  readonly name: string;
  /** `sh 'command'` steps, in order (credential set-up steps written as `sh(label: 'credentials: …')` are apart). */
  readonly commands: readonly string[];
  readonly credentialSteps: readonly string[];
  /** Branches of `when { branch … }` (or `anyOf { branch …; branch … }`); empty = every branch. */
  readonly branches: readonly string[];
  readonly approval?: { readonly message?: string; readonly submitter?: string };
  /** Ids of `withCredentials` bindings. */
  readonly credentialIds: readonly string[];
  readonly archived: readonly string[];
}

export interface JenkinsPipelineDescription {
  readonly stages: readonly JenkinsStage[];
  /** Top-level `agent` / `options` / `environment` … directive names. */
  readonly directives: readonly string[];
}

export class JenkinsfileSyntaxError extends Error {}

function unescapeGroovy(body: string): string {
  return body.replace(/\\(u[0-9a-fA-F]{4}|.)/gs, (_, escaped: string) => {
    if (escaped.startsWith('u') && escaped.length === 5) return String.fromCharCode(parseInt(escaped.slice(1), 16));
    return ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' } as Record<string, string>)[escaped] ?? escaped;
  });
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (position < text.length) {
    const rest = text.slice(position);
    const whitespace = /^\s+/.exec(rest);
    if (whitespace) {
      position += whitespace[0].length;
      continue;
    }
    if (rest.startsWith('//')) {
      const end = text.indexOf('\n', position);
      position = end < 0 ? text.length : end + 1;
      continue;
    }
    if (rest.startsWith('/*')) {
      const end = text.indexOf('*/', position + 2);
      if (end < 0) throw new JenkinsfileSyntaxError('unterminated block comment');
      position = end + 2;
      continue;
    }
    const quote = rest.startsWith("'''") ? "'''" : rest.startsWith('"""') ? '"""' : rest[0] === "'" || rest[0] === '"' ? rest[0] : undefined;
    if (quote !== undefined) {
      let end = position + quote.length;
      while (end < text.length && !text.startsWith(quote, end)) {
        if (text[end] === '\\') end += 1;
        else if (quote.length === 1 && text[end] === '\n') throw new JenkinsfileSyntaxError(`newline in a string at offset ${position}`);
        end += 1;
      }
      if (end >= text.length) throw new JenkinsfileSyntaxError(`unterminated string at offset ${position}`);
      tokens.push({ kind: 'string', value: unescapeGroovy(text.slice(position + quote.length, end)) });
      position = end + quote.length;
      continue;
    }
    if ('{}()[],:'.includes(rest[0])) {
      tokens.push({ kind: 'punctuation', value: rest[0] });
      position += 1;
      continue;
    }
    const word = /^[^\s{}()[\],:'"]+/.exec(rest);
    if (!word) throw new JenkinsfileSyntaxError(`unexpected character at offset ${position}`);
    tokens.push({ kind: 'word', value: word[0] });
    position += word[0].length;
  }
  return tokens;
}

/** Nests `{ }` blocks; checks that ( ) and [ ] balance too. */
function nest(tokens: readonly Token[]): Item[] {
  const stack: Item[][] = [[]];
  const brackets: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'punctuation' && (token.value === '(' || token.value === '[')) brackets.push(token.value);
    if (token.kind === 'punctuation' && (token.value === ')' || token.value === ']')) {
      const open = brackets.pop();
      if (open !== (token.value === ')' ? '(' : '[')) throw new JenkinsfileSyntaxError(`unbalanced '${token.value}'`);
    }
    if (token.kind === 'punctuation' && token.value === '{') {
      stack.push([]);
      continue;
    }
    if (token.kind === 'punctuation' && token.value === '}') {
      const items = stack.pop();
      if (!items || stack.length === 0) throw new JenkinsfileSyntaxError("unbalanced '}'");
      stack[stack.length - 1].push({ kind: 'block', items });
      continue;
    }
    stack[stack.length - 1].push(token);
  }
  if (stack.length !== 1 || brackets.length > 0) throw new JenkinsfileSyntaxError('unclosed bracket at end of file');
  return stack[0];
}

function isWord(item: Item | undefined, value: string): boolean {
  return item?.kind === 'word' && item.value === value;
}

function isPunctuation(item: Item | undefined, value: string): boolean {
  return item?.kind === 'punctuation' && item.value === value;
}

/** The block that follows `name` (after optional `( … )` arguments) among `items`. */
function blockAfter(items: readonly Item[], name: string): readonly Item[] | undefined {
  for (let index = 0; index < items.length; index += 1) {
    if (!isWord(items[index], name)) continue;
    let next = index + 1;
    if (isPunctuation(items[next], '(')) {
      while (next < items.length && !isPunctuation(items[next], ')')) next += 1;
      next += 1;
    }
    const candidate = items[next];
    if (candidate?.kind === 'block') return candidate.items;
  }
  return undefined;
}

/** Every item, depth first. */
function flatten(items: readonly Item[]): Token[] {
  return items.flatMap((item) => (item.kind === 'block' ? flatten(item.items) : [item]));
}

function stringAfter(tokens: readonly Token[], index: number): string | undefined {
  const token = tokens[index];
  return token?.kind === 'string' ? token.value : undefined;
}

function readStage(name: string, items: readonly Item[]): JenkinsStage {
  const commands: string[] = [];
  const credentialSteps: string[] = [];
  const credentialIds: string[] = [];
  const archived: string[] = [];
  const steps = flatten(blockAfter(items, 'steps') ?? []);
  for (let index = 0; index < steps.length; index += 1) {
    const token = steps[index];
    if (token.kind !== 'word') continue;
    if (token.value === 'sh') {
      const plain = stringAfter(steps, index + 1);
      if (plain !== undefined) {
        commands.push(plain);
        continue;
      }
      // sh(label: '…', script: '…')
      if (isPunctuation(steps[index + 1], '(')) {
        let end = index + 2;
        const named: Record<string, string> = {};
        while (end < steps.length && !isPunctuation(steps[end], ')')) {
          const key = steps[end];
          if (key.kind === 'word' && isPunctuation(steps[end + 1], ':')) {
            const value = stringAfter(steps, end + 2);
            if (value !== undefined) named[key.value] = value;
          }
          end += 1;
        }
        if (named.script === undefined) throw new JenkinsfileSyntaxError(`stage '${name}': sh( … ) without script`);
        if (named.label?.startsWith('credentials:')) credentialSteps.push(named.script);
        else commands.push(named.script);
      }
    }
    if (token.value === 'credentialsId' && isPunctuation(steps[index + 1], ':')) {
      const id = stringAfter(steps, index + 2);
      if (id !== undefined) credentialIds.push(id);
    }
    if (token.value === 'archiveArtifacts' && isWord(steps[index + 1], 'artifacts') && isPunctuation(steps[index + 2], ':')) {
      archived.push(...(stringAfter(steps, index + 3) ?? '').split(',').map((pattern) => pattern.trim()).filter((pattern) => pattern.length > 0));
    }
  }
  const when = flatten(blockAfter(items, 'when') ?? []);
  const branches = when.flatMap((token, index) => (token.kind === 'word' && token.value === 'branch' ? [stringAfter(when, index + 1) ?? ''] : []));
  const input = blockAfter(items, 'input');
  let approval: JenkinsStage['approval'];
  if (input) {
    const inputTokens = flatten(input);
    const directive = (key: string) => {
      const index = inputTokens.findIndex((token) => token.kind === 'word' && token.value === key);
      return index < 0 ? undefined : stringAfter(inputTokens, index + 1);
    };
    approval = { message: directive('message'), submitter: directive('submitter') };
  }
  return { name, commands, credentialSteps, branches, approval, credentialIds, archived };
}

/** Reads a declarative Jenkinsfile; throws `JenkinsfileSyntaxError` when it is not one. */
export function parseJenkinsfile(text: string): JenkinsPipelineDescription {
  const items = nest(tokenize(text));
  const pipeline = blockAfter(items, 'pipeline');
  if (!pipeline) throw new JenkinsfileSyntaxError('no pipeline { } block');
  const stagesBlock = blockAfter(pipeline, 'stages');
  if (!stagesBlock) throw new JenkinsfileSyntaxError('no stages { } block');
  const stages: JenkinsStage[] = [];
  for (let index = 0; index < stagesBlock.length; index += 1) {
    if (!isWord(stagesBlock[index], 'stage')) continue;
    const name = stringAfter(stagesBlock as Token[], index + 2);
    const body = stagesBlock[index + 4];
    if (!isPunctuation(stagesBlock[index + 1], '(') || name === undefined || !isPunctuation(stagesBlock[index + 3], ')') || body?.kind !== 'block') {
      throw new JenkinsfileSyntaxError(`malformed stage at item ${index}`);
    }
    stages.push(readStage(name, body.items));
  }
  const directives = pipeline.flatMap((item, index) => (item.kind === 'word' && pipeline[index + 1]?.kind === 'block' ? [item.value] : item.kind === 'word' && item.value === 'agent' ? ['agent'] : []));
  return { stages, directives: [...new Set(directives)] };
}
