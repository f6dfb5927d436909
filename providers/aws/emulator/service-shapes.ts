/**
 * Holds the AWS control-plane emulator to the services' own models, not to what our code sends:
 * the AWS SDK v3 clients ship the service model as runtime schemas (`<Operation>$`, `<Shape>$`,
 * exported by `@aws-sdk/client-sagemaker` and `@aws-sdk/client-glue`, generated from the
 * Smithy models AWS publishes). Each request body is checked against its operation's input shape,
 * and each answer against the output shape, member by member: unknown members, missing required
 * members, wrong JSON types, unions with other than one member.
 *
 * The schema form (@smithy/core's static schemas): a number is a simple type (0 string, 1 number,
 * 2 boolean, 4–7 timestamps, 15 document, 21 blob; `64 | x` a list of x, `128 | x` a map of x); an
 * array is `[kind, namespace, name, traits, …]` with kind 0 (simple with traits), 1 list
 * (`…, member`), 2 map (`…, key, value`), 3 / -3 structure / error
 * (`…, memberNames, memberSchemas, requiredCount`: the first requiredCount members are required),
 * 4 union, 9 operation (`…, input, output`); a two-element array is a member `[schema, traits]`;
 * a function is a lazy reference.
 */

/** One violation: where (a path like `resourceConfig.instanceCount`) and what. */
export interface ShapeViolation {
  readonly kind: 'missing' | 'unknown' | 'type';
  /** The member path, members camel-cased as AWS's validation messages spell them. */
  readonly path: string;
  readonly message: string;
}

type SchemaReference = unknown;

const STRING = 0;
const NUMBER = 1;
const BOOLEAN = 2;
const DOCUMENT = 15;
const BLOB = 21;
const STREAMING_BLOB = 42;
const BIG_INTEGER = 17;
const BIG_DECIMAL = 19;
const LIST_MODIFIER = 64;
const MAP_MODIFIER = 128;

function resolve(schema: SchemaReference): unknown {
  let current = schema;
  while (typeof current === 'function') current = (current as () => unknown)();
  return current;
}

function camel(name: string): string {
  return name.length === 0 ? name : name[0].toLowerCase() + name.slice(1);
}

function join(path: string, member: string): string {
  return path ? `${path}.${member}` : member;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a structure';
  return `a ${typeof value}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkSimple(code: number, value: unknown, path: string, violations: ShapeViolation[]): void {
  const wrong = (expected: string): void => {
    violations.push({ kind: 'type', path, message: `Value at '${path}' must be ${expected}, got ${typeName(value)}` });
  };
  if ((code & MAP_MODIFIER) === MAP_MODIFIER) {
    if (!isRecord(value)) return wrong('a map');
    for (const [key, entry] of Object.entries(value)) if (entry !== null) checkSimple(code & ~MAP_MODIFIER, entry, `${path}.${key}`, violations);
    return;
  }
  if ((code & LIST_MODIFIER) === LIST_MODIFIER) {
    if (!Array.isArray(value)) return wrong('a list');
    value.forEach((entry, index) => entry !== null && checkSimple(code & ~LIST_MODIFIER, entry, `${path}.${index + 1}`, violations));
    return;
  }
  switch (code) {
    case STRING:
      if (typeof value !== 'string') wrong('a string');
      return;
    case NUMBER:
      // awsJson sends NaN and the infinities as strings
      if (typeof value !== 'number' && !(typeof value === 'string' && ['NaN', 'Infinity', '-Infinity'].includes(value))) wrong('a number');
      return;
    case BOOLEAN:
      if (typeof value !== 'boolean') wrong('a boolean');
      return;
    case BLOB:
    case STREAMING_BLOB:
      if (typeof value !== 'string') wrong('base64 text');
      return;
    case BIG_INTEGER:
    case BIG_DECIMAL:
      if (typeof value !== 'number' && typeof value !== 'string') wrong('a number');
      return;
    case DOCUMENT:
      return;
    default:
      // timestamps (4–7): awsJson writes epoch seconds; date-time and http-date formats are text
      if (code >= 4 && code <= 7) {
        if (typeof value !== 'number' && typeof value !== 'string') wrong('a timestamp');
      }
  }
}

function check(schemaReference: SchemaReference, value: unknown, path: string, violations: ShapeViolation[]): void {
  if (value === null || value === undefined) return;
  const schema = resolve(schemaReference);
  if (typeof schema === 'number') return checkSimple(schema, value, path, violations);
  if (!Array.isArray(schema)) return;
  if (schema.length === 2) return check(schema[0], value, path, violations);
  const kind = schema[0] as number;
  switch (kind) {
    case 0:
      return check(schema[4], value, path, violations);
    case 1: {
      if (!Array.isArray(value)) {
        violations.push({ kind: 'type', path, message: `Value at '${path}' must be a list, got ${typeName(value)}` });
        return;
      }
      value.forEach((entry, index) => check(schema[4], entry, `${path}.${index + 1}`, violations));
      return;
    }
    case 2: {
      if (!isRecord(value)) {
        violations.push({ kind: 'type', path, message: `Value at '${path}' must be a map, got ${typeName(value)}` });
        return;
      }
      for (const [key, entry] of Object.entries(value)) check(schema[5], entry, `${path}.${key}`, violations);
      return;
    }
    case 3:
    case -3:
    case 4:
      return checkStructure(schema, value, path, violations, kind === 4);
    default:
  }
}

function checkStructure(schema: readonly unknown[], value: unknown, path: string, violations: ShapeViolation[], union: boolean): void {
  const name = String(schema[2]);
  if (!isRecord(value)) {
    violations.push({ kind: 'type', path, message: `Value at '${path || name}' must be a structure (${name}), got ${typeName(value)}` });
    return;
  }
  const memberNames = (schema[4] as readonly string[] | undefined) ?? [];
  const memberSchemas = (schema[5] as readonly unknown[] | undefined) ?? [];
  const requiredCount = union ? 0 : ((schema[6] as number | undefined) ?? 0);
  for (const key of Object.keys(value)) {
    if (key === '__type') continue;
    if (!memberNames.includes(key)) violations.push({ kind: 'unknown', path: join(path, camel(key)), message: `Unrecognized field "${key}" (${name} has no such member)` });
  }
  memberNames.forEach((member, index) => {
    const memberPath = join(path, camel(member));
    const memberValue = value[member];
    if (index < requiredCount && (memberValue === undefined || memberValue === null)) {
      violations.push({ kind: 'missing', path: memberPath, message: `Value null at '${memberPath}' failed to satisfy constraint: Member must not be null` });
      return;
    }
    check(memberSchemas[index], memberValue, memberPath, violations);
  });
  if (union) {
    const set = memberNames.filter((member) => value[member] !== undefined && value[member] !== null);
    if (set.length !== 1) violations.push({ kind: 'type', path, message: `Value at '${path || name}' must set exactly one member of the union ${name}, got ${set.length}` });
  }
}

/** Every violation of `value` against a shape (a structure schema such as `CreateTrainingJobRequest$`). */
export function shapeViolations(shape: unknown, value: unknown): ShapeViolation[] {
  const violations: ShapeViolation[] = [];
  check(shape, value, '', violations);
  return violations;
}

/** The input and output shapes of an operation schema (`CreateTrainingJob$`). */
export function operationShapes(operation: unknown): { readonly input: unknown; readonly output: unknown } {
  const schema = resolve(operation);
  if (!Array.isArray(schema) || schema[0] !== 9) throw new TypeError('not an operation schema');
  return { input: schema[4], output: schema[5] };
}

/**
 * AWS's validation message: `2 validation errors detected: Value null at 'roleArn' failed to
 * satisfy constraint: Member must not be null; …`.
 */
export function validationMessage(violations: readonly ShapeViolation[]): string {
  const count = violations.length;
  return `${count} validation error${count === 1 ? '' : 's'} detected: ${violations.map((violation) => violation.message).join('; ')}`;
}
