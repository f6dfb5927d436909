/**
 * Travis CI has no offline validator, so these are our own checks of `.travis.yml`: a JSON schema of
 * the keys the renderer uses (validated with ajv; unknown keys are errors, so a typo cannot pass),
 * then what a schema cannot say: stage order, jobs grouped by stage, and the syntax of `if:`
 * conditions (Travis' condition language: https://docs.travis-ci.com/user/conditions-v1).
 */
import Ajv from 'ajv';

const stringList = { type: 'array', items: { type: 'string', minLength: 1 } } as const;
const script = { oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }] } as const;
const environmentEntry = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*=' } as const;
const environmentList = { oneOf: [environmentEntry, { type: 'array', items: environmentEntry }] } as const;

export const travisSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'The subset of .travis.yml this project renders',
  type: 'object',
  additionalProperties: false,
  required: ['language', 'node_js', 'jobs', 'stages'],
  properties: {
    language: { const: 'node_js' },
    node_js: { oneOf: [{ type: 'string', pattern: '^\\d+(\\.\\d+){0,2}$' }, { type: 'array', items: { type: 'string', pattern: '^\\d+(\\.\\d+){0,2}$' } }] },
    os: { enum: ['linux', 'osx', 'windows', 'freebsd'] },
    dist: { enum: ['trusty', 'xenial', 'bionic', 'focal', 'jammy', 'noble'] },
    cache: {
      type: 'object',
      additionalProperties: false,
      properties: { npm: { type: 'boolean' }, directories: stringList },
    },
    env: {
      type: 'object',
      additionalProperties: false,
      properties: { global: { type: 'array', items: environmentEntry } },
    },
    install: { anyOf: [{ const: 'skip' }, script] },
    stages: {
      type: 'array',
      minItems: 1,
      items: {
        oneOf: [
          { type: 'string', minLength: 1 },
          { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', minLength: 1 }, if: { type: 'string', minLength: 1 } } },
        ],
      },
    },
    jobs: {
      type: 'object',
      additionalProperties: false,
      required: ['include'],
      properties: {
        include: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['stage', 'script'],
            properties: {
              stage: { type: 'string', minLength: 1 },
              name: { type: 'string', minLength: 1 },
              if: { type: 'string', minLength: 1 },
              env: environmentList,
              install: { anyOf: [{ const: 'skip' }, script] },
              before_script: script,
              services: { type: 'array', items: { enum: ['docker', 'postgresql', 'mysql', 'redis', 'xvfb'] } },
              script,
            },
          },
        },
      },
    },
  },
} as const;

/** Problems the JSON schema finds, as `path: message` lines. */
export function travisSchemaProblems(configuration: unknown): string[] {
  const ajv = new Ajv({ strict: true, allErrors: true });
  const validate = ajv.compile(travisSchema);
  if (validate(configuration)) return [];
  return (validate.errors ?? []).map((error) => `${error.instancePath || '/'}: ${error.message}${error.params ? ` ${JSON.stringify(error.params)}` : ''}`);
}

// ---- Travis condition language (conditions v1), as a small recursive-descent parser -------------

const attributes = [
  'type', 'repo', 'head_repo', 'os', 'dist', 'group', 'sudo', 'language', 'sender', 'fork', 'branch', 'head_branch',
  'tag', 'commit_message', 'env',
];
const eventTypes = ['push', 'pull_request', 'api', 'cron'];

/** Tokens of a condition: words, quoted strings, regexes, operators, parentheses, commas. */
function conditionTokens(condition: string): string[] {
  const tokens: string[] = [];
  const pattern = /\s*(\(|\)|,|!=|==|=~|=|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\/(?:[^/\\]|\\.)+\/|[^\s(),=!~]+)/y;
  let position = 0;
  while (position < condition.length) {
    if (/^\s*$/.test(condition.slice(position))) break;
    pattern.lastIndex = position;
    const match = pattern.exec(condition);
    if (!match) throw new Error(`unexpected text at ${position}: '${condition.slice(position)}'`);
    tokens.push(match[1]);
    position = pattern.lastIndex;
  }
  return tokens;
}

/** Throws with the reason when `condition` is not valid Travis condition syntax. */
export function checkTravisCondition(condition: string): void {
  const tokens = conditionTokens(condition);
  let index = 0;
  const peek = () => tokens[index];
  const take = () => tokens[index++];
  const expect = (value: string) => {
    const token = take();
    if (token?.toUpperCase() !== value) throw new Error(`expected ${value}, got '${token ?? 'end'}'`);
  };
  const value = () => {
    const token = take();
    if (token === undefined || ['(', ')', ',', '=', '!=', '==', '=~'].includes(token) || ['AND', 'OR', 'NOT', 'IN', 'IS'].includes(token.toUpperCase())) {
      throw new Error(`expected a value, got '${token ?? 'end'}'`);
    }
    return token.replace(/^["']|["']$/g, '');
  };
  const term = (): void => {
    if (peek()?.toUpperCase() === 'NOT') {
      take();
      term();
      return;
    }
    if (peek() === '(') {
      take();
      expression();
      expect(')');
      return;
    }
    const attribute = take();
    if (attribute === undefined || !attributes.includes(attribute.toLowerCase())) throw new Error(`unknown attribute '${attribute ?? 'end'}'`);
    if (attribute.toLowerCase() === 'env') {
      expect('(');
      value();
      expect(')');
    }
    const operator = take()?.toUpperCase();
    const checkValue = (candidate: string) => {
      if (attribute.toLowerCase() === 'type' && !eventTypes.includes(candidate)) throw new Error(`type must be one of ${eventTypes.join(', ')}, got '${candidate}'`);
    };
    if (operator === '=' || operator === '==' || operator === '!=') {
      checkValue(value());
    } else if (operator === '=~') {
      const regex = take();
      if (regex === undefined || !/^\/.+\/$/.test(regex)) throw new Error(`=~ needs a /regex/, got '${regex ?? 'end'}'`);
    } else if (operator === 'IN' || operator === 'NOT') {
      if (operator === 'NOT') expect('IN');
      expect('(');
      checkValue(value());
      while (peek() === ',') {
        take();
        checkValue(value());
      }
      expect(')');
    } else if (operator === 'IS') {
      if (peek()?.toUpperCase() === 'NOT') take();
      const state = take()?.toLowerCase();
      if (state !== 'present' && state !== 'blank') throw new Error(`IS needs present or blank, got '${state ?? 'end'}'`);
    } else {
      throw new Error(`expected an operator after '${attribute}', got '${operator ?? 'end'}'`);
    }
  };
  const expression = (): void => {
    term();
    while (peek() !== undefined && ['AND', 'OR', '&&', '||'].includes(peek().toUpperCase())) {
      take();
      term();
    }
  };
  expression();
  if (index !== tokens.length) throw new Error(`unexpected '${tokens[index]}'`);
}

interface TravisJob {
  readonly stage: string;
  readonly if?: string;
}

/** Checks beyond the schema: every stage declared once and used, jobs in stage order, valid conditions. */
export interface TravisStagesAndJobs {
  readonly stages: readonly (string | { readonly name: string; readonly if?: string })[];
  readonly jobs: { readonly include: readonly TravisJob[] };
}

export function travisSemanticProblems(configuration: TravisStagesAndJobs): string[] {
  const problems: string[] = [];
  // Travis matches stage names case-insensitively
  const declared = configuration.stages.map((stage) => (typeof stage === 'string' ? stage : stage.name).toLowerCase());
  if (new Set(declared).size !== declared.length) problems.push(`stages declared twice: ${declared.join(', ')}`);
  let lastPosition = -1;
  for (const [index, job] of configuration.jobs.include.entries()) {
    const position = declared.indexOf(job.stage.toLowerCase());
    if (position < 0) problems.push(`job ${index}: stage '${job.stage}' is not in stages`);
    if (position < lastPosition) problems.push(`job ${index}: stage '${job.stage}' comes after a later stage`);
    lastPosition = Math.max(lastPosition, position);
    if (job.if !== undefined) {
      try {
        checkTravisCondition(job.if);
      } catch (error) {
        problems.push(`job ${index} (${job.stage}): if '${job.if}': ${(error as Error).message}`);
      }
    }
  }
  for (const stage of declared) {
    if (!configuration.jobs.include.some((job) => job.stage.toLowerCase() === stage)) problems.push(`stage '${stage}' has no job`);
  }
  for (const stage of configuration.stages) {
    if (typeof stage !== 'string' && stage.if !== undefined) {
      try {
        checkTravisCondition(stage.if);
      } catch (error) {
        problems.push(`stage '${stage.name}': if '${stage.if}': ${(error as Error).message}`);
      }
    }
  }
  return problems;
}
