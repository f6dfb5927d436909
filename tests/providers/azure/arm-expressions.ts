/**
 * A small parser and evaluator of ARM template-language expressions (`[format('a-{0}', parameters('b'))]`),
 * enough to check a template's expressions (syntax, referenced parameters and variables) and to
 * evaluate parameter defaults built from `parameters` and `format`.
 */
export type ExpressionNode =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly ExpressionNode[] }
  | { readonly kind: 'property'; readonly target: ExpressionNode; readonly name: string }
  /** `target[key]` with a computed key, e.g. `variables('byEnvironment')[parameters('environment')]`. */
  | { readonly kind: 'index'; readonly target: ExpressionNode; readonly key: ExpressionNode };

/** Parses the text inside `[…]`. @throws Error on a syntax error */
export function parseExpression(text: string): ExpressionNode {
  let position = 0;
  const fail = (message: string): never => {
    throw new Error(`${message} at ${position} in ${text}`);
  };
  const skipSpaces = (): void => {
    while (text[position] === ' ') position += 1;
  };
  const parsePrimary = (): ExpressionNode => {
    skipSpaces();
    if (text[position] === "'") {
      let value = '';
      position += 1;
      for (;;) {
        if (position >= text.length) fail('unterminated string');
        if (text[position] === "'") {
          if (text[position + 1] === "'") {
            value += "'";
            position += 2;
            continue;
          }
          position += 1;
          break;
        }
        value += text[position];
        position += 1;
      }
      return { kind: 'string', value };
    }
    const number = /^-?\d+(\.\d+)?/.exec(text.slice(position));
    if (number) {
      position += number[0].length;
      return { kind: 'number', value: Number(number[0]) };
    }
    const identifier = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(position));
    if (!identifier) return fail('expected a string, number or function');
    position += identifier[0].length;
    skipSpaces();
    if (text[position] !== '(') return fail(`expected '(' after ${identifier[0]}`);
    position += 1;
    const args: ExpressionNode[] = [];
    skipSpaces();
    if (text[position] === ')') {position += 1;} else {
      for (;;) {
        args.push(parseAccess());
        skipSpaces();
        if (text[position] === ',') {position += 1;} else if (text[position] === ')') {
          position += 1;
          break;
        } else {fail("expected ',' or ')'");}
      }
    }
    return { kind: 'call', name: identifier[0], args };
  };
  const parseAccess = (): ExpressionNode => {
    let node = parsePrimary();
    for (;;) {
      if (text[position] === '.') {
        const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(position + 1));
        if (!name) fail('expected a property name');
        position += 1 + name![0].length;
        node = { kind: 'property', target: node, name: name![0] };
      } else if (text[position] === '[') {
        position += 1;
        const key = parseAccess();
        if (text[position] !== ']') fail('expected ]');
        position += 1;
        node = key.kind === 'string' ? { kind: 'property', target: node, name: key.value } : { kind: 'index', target: node, key };
      } else {return node;}
    }
  };
  const node = parseAccess();
  skipSpaces();
  if (position !== text.length) fail('unexpected text');
  return node;
}

/** Every call node of an expression (depth first). */
export function calls(node: ExpressionNode): { readonly name: string; readonly args: readonly ExpressionNode[] }[] {
  if (node.kind === 'call') return [node, ...node.args.flatMap(calls)];
  if (node.kind === 'property') return calls(node.target);
  if (node.kind === 'index') return [...calls(node.target), ...calls(node.key)];
  return [];
}

/** Every template expression (`"[…]"` strings) in a JSON value, with its JSON path. */
export function templateExpressions(value: unknown, at = '$'): { readonly path: string; readonly text: string }[] {
  if (typeof value === 'string') return value.startsWith('[') && !value.startsWith('[[') && value.endsWith(']') ? [{ path: at, text: value.slice(1, -1) }] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => templateExpressions(item, `${at}[${index}]`));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => templateExpressions(item, `${at}.${key}`));
  return [];
}

/** Evaluates `parameters`, `format` and literals (what parameter defaults and names use here). */
export function evaluate(node: ExpressionNode, parameters: Readonly<Record<string, unknown>>): unknown {
  if (node.kind === 'string' || node.kind === 'number') return node.value;
  if (node.kind === 'property') throw new Error(`cannot evaluate property ${node.name} offline`);
  if (node.kind === 'index') throw new Error('cannot evaluate an index offline');
  const args = node.args.map((arg) => evaluate(arg, parameters));
  if (node.name === 'parameters') {
    const name = String(args[0]);
    if (!(name in parameters)) throw new Error(`parameter ${name} has no value`);
    return parameters[name];
  }
  if (node.name === 'format') return String(args[0]).replace(/\{(\d+)\}/g, (_, index: string) => String(args[Number(index) + 1]));
  throw new Error(`cannot evaluate ${node.name}() offline`);
}

/**
 * The parameters of a template with their values: those given, else their defaults evaluated in
 * declaration order (a default may use earlier parameters).
 */
export function resolveParameters(
  template: { parameters: Record<string, { defaultValue?: unknown }> },
  given: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, definition] of Object.entries(template.parameters)) {
    if (name in given) {values[name] = given[name];} else if (typeof definition.defaultValue === 'string' && definition.defaultValue.startsWith('[')) {
      try {
        values[name] = evaluate(parseExpression(definition.defaultValue.slice(1, -1)), values);
      } catch {
        // defaults that need the deployment (resourceGroup(), utcNow()) stay unresolved
      }
    } else if (definition.defaultValue !== undefined) {values[name] = definition.defaultValue;}
  }
  return values;
}
