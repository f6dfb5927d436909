/**
 * Holds the Azure ML control-plane emulator to the service's documented shapes, not to what our
 * code sends: `@azure/arm-machinelearning` ships the REST API's models as core-client mappers
 * (`dist-esm/src/models/mappers.js`: every model and the polymorphic `discriminators`, generated
 * from Microsoft's OpenAPI specification, api-version 2022-10-01). A request body is checked against
 * its operation's model and each answer against the answer's model: unknown members, missing
 * required members, wrong JSON types, values outside an enum, constant or constraint.
 *
 * Polymorphic models are resolved by their discriminator as the service does. The SDK's own
 * serializer cannot resolve some of them (job inputs and outputs are registered under
 * `AssetJobInput.*` / `AssetJobOutput.*` while it looks for `JobInput.*`: the `uri_folder` bug
 * providers/azure/job-asset-repair.ts works around), so the lookup here also finds a subtype by its
 * discriminator value among the models that extend the base.
 */
import type { CompositeMapper, Mapper } from '@azure/core-client' with { 'resolution-mode': 'import' };

export interface ArmViolation {
  readonly kind: 'missing' | 'unknown' | 'type' | 'constraint';
  /** JSON path, e.g. `properties.inputs.lake.uri`. */
  readonly path: string;
  readonly message: string;
}

export interface ArmModels {
  /** Model name → mapper (`JobBase`, `ModelVersion`, …). */
  readonly mappers: Readonly<Record<string, Mapper | undefined>>;
  /** `Base.value` → the subtype's mapper. */
  readonly discriminators: Readonly<Record<string, Mapper | undefined>>;
}

/** Loads the models of the installed @azure/arm-machinelearning. */
export async function loadArmModels(): Promise<ArmModels> {
  const module = (await import('@azure/arm-machinelearning/dist-esm/src/models/mappers.js')) as unknown as Record<string, unknown> & { discriminators: Record<string, Mapper> };
  const mappers: Record<string, Mapper> = {};
  for (const [name, value] of Object.entries(module)) if (name !== 'discriminators' && typeof value === 'object' && value !== null) mappers[name] = value as Mapper;
  return { mappers, discriminators: module.discriminators };
}

type Json = Record<string, unknown>;

interface PropertyNode {
  mapper?: Mapper;
  readonly children: Map<string, PropertyNode>;
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** `properties.foo` → ['properties', 'foo'] (a `\.` is a literal dot). */
function serializedPath(name: string): string[] {
  return name.split(/(?<!\\)\./).map((segment) => segment.replace(/\\\./g, '.'));
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

export class ArmShapeChecker {
  constructor(private readonly models: ArmModels) {}

  /** Every violation of `value` against the model named `modelName` (e.g. `JobBase`). */
  check(modelName: string, value: unknown): ArmViolation[] {
    const mapper = this.models.mappers[modelName];
    if (!mapper) throw new Error(`the SDK has no model ${modelName}`);
    const violations: ArmViolation[] = [];
    this.checkValue(mapper, value, '', violations);
    return violations;
  }

  private composite(mapper: Mapper): CompositeMapper {
    const type = (mapper as CompositeMapper).type;
    if (type.modelProperties || type.additionalProperties || !type.className) return mapper as CompositeMapper;
    return (this.models.mappers[type.className] as CompositeMapper | undefined) ?? (mapper as CompositeMapper);
  }

  /** The subtype a discriminator value selects, or undefined when the value names the base (or nothing). */
  private subtype(base: CompositeMapper, discriminatorValue: string): CompositeMapper | undefined {
    const { className, uberParent } = base.type;
    for (const key of [`${className}.${discriminatorValue}`, `${uberParent}.${discriminatorValue}`]) {
      const found = this.models.discriminators[key];
      if (found) return this.composite(found);
    }
    // a subtype registered under another base (the SDK's AssetJobInput / JobInput mix-up): same value, and every property of the base
    const baseProperties = Object.keys(base.type.modelProperties ?? {});
    for (const [key, candidate] of Object.entries(this.models.discriminators)) {
      if (!candidate || !key.endsWith(`.${discriminatorValue}`) || candidate.serializedName !== discriminatorValue) continue;
      const properties = (this.composite(candidate).type.modelProperties ?? {}) as Record<string, Mapper>;
      if (baseProperties.every((property) => property in properties)) return this.composite(candidate);
    }
    return undefined;
  }

  private checkValue(mapper: Mapper, value: unknown, path: string, violations: ArmViolation[]): void {
    if (value === undefined || value === null) return;
    const wrong = (expected: string): void => {
      violations.push({ kind: 'type', path, message: `'${path}' must be ${expected}, got ${typeName(value)}` });
    };
    const name = mapper.type.name;
    if (mapper.isConstant && mapper.defaultValue !== undefined && value !== mapper.defaultValue) {
      violations.push({ kind: 'constraint', path, message: `'${path}' must be ${JSON.stringify(mapper.defaultValue)}` });
      return;
    }
    switch (name) {
      case 'String':
      case 'Uuid':
      case 'DateTime':
      case 'DateTimeRfc1123':
      case 'Date':
      case 'TimeSpan':
      case 'ByteArray':
      case 'Base64Url':
        if (typeof value !== 'string') return wrong('a string');
        this.checkConstraints(mapper, value, path, violations);
        return;
      case 'Number':
      case 'UnixTime':
        if (typeof value !== 'number') return wrong('a number');
        this.checkConstraints(mapper, value, path, violations);
        return;
      case 'Boolean':
        if (typeof value !== 'boolean') return wrong('a boolean');
        return;
      case 'Enum': {
        const allowed = (mapper.type as { allowedValues?: unknown[] }).allowedValues ?? [];
        if (!allowed.includes(value)) violations.push({ kind: 'constraint', path, message: `'${path}' must be one of ${allowed.map((entry) => JSON.stringify(entry)).join(', ')}, got ${JSON.stringify(value)}` });
        return;
      }
      case 'Sequence': {
        if (!Array.isArray(value)) return wrong('an array');
        const element = (mapper.type as { element: Mapper }).element;
        value.forEach((entry, index) => this.checkValue(element, entry, `${path}[${index}]`, violations));
        this.checkConstraints(mapper, value, path, violations);
        return;
      }
      case 'Dictionary': {
        if (!isRecord(value)) return wrong('an object');
        const element = (mapper.type as { value: Mapper }).value;
        for (const [key, entry] of Object.entries(value)) this.checkValue(element, entry, join(path, key), violations);
        return;
      }
      case 'Composite':
        if (!isRecord(value)) return wrong('an object');
        this.checkComposite(this.composite(mapper), value, path, violations);
        return;
      default:
      // Object, Stream: anything
    }
  }

  private checkComposite(mapper: CompositeMapper, value: Json, path: string, violations: ArmViolation[]): void {
    let model = mapper;
    const discriminator = model.type.polymorphicDiscriminator?.serializedName;
    if (discriminator !== undefined) {
      const discriminatorValue = value[discriminator];
      if (typeof discriminatorValue !== 'string') {
        violations.push({ kind: 'missing', path: join(path, discriminator), message: `Required property '${discriminator}' not found in JSON. Path '${path}'` });
        return;
      }
      const subtype = this.subtype(model, discriminatorValue);
      if (subtype) {model = subtype;} else if (discriminatorValue !== model.serializedName && discriminatorValue !== model.type.className) {
        violations.push({ kind: 'constraint', path: join(path, discriminator), message: `'${join(path, discriminator)}' ${JSON.stringify(discriminatorValue)} is not a known ${model.type.className} type` });
        return;
      }
    }
    const root: PropertyNode = { children: new Map() };
    for (const [propertyName, property] of Object.entries(model.type.modelProperties ?? {})) {
      let node = root;
      for (const segment of serializedPath(property.serializedName ?? propertyName)) {
        if (!node.children.has(segment)) node.children.set(segment, { children: new Map() });
        node = node.children.get(segment)!;
      }
      node.mapper = property;
    }
    this.checkNode(root, value, path, violations, model.type.additionalProperties !== undefined, model.type.className);
  }

  private checkNode(node: PropertyNode, value: Json, path: string, violations: ArmViolation[], open: boolean, className: string | undefined): void {
    for (const key of Object.keys(value)) {
      if (!node.children.has(key) && !open) {
        violations.push({ kind: 'unknown', path: join(path, key), message: `Could not find member '${key}' on object of type '${className}'. Path '${join(path, key)}'` });
      }
    }
    for (const [key, child] of node.children) {
      const childPath = join(path, key);
      const childValue = value[key];
      if (child.mapper) {
        if ((childValue === undefined || childValue === null) && child.mapper.required && !child.mapper.readOnly) {
          violations.push({ kind: 'missing', path: childPath, message: `Required property '${key}' not found in JSON. Path '${path}'` });
          continue;
        }
        this.checkValue(child.mapper, childValue, childPath, violations);
      } else if (isRecord(childValue)) {
        this.checkNode(child, childValue, childPath, violations, false, className);
      } else if (childValue !== undefined && childValue !== null) {
        violations.push({ kind: 'type', path: childPath, message: `'${childPath}' must be an object, got ${typeName(childValue)}` });
      }
    }
  }

  private checkConstraints(mapper: Mapper, value: string | number | unknown[], path: string, violations: ArmViolation[]): void {
    const constraints = mapper.constraints;
    if (!constraints) return;
    const fail = (rule: string): void => {
      violations.push({ kind: 'constraint', path, message: `'${path}' ${rule}, got ${JSON.stringify(value)}` });
    };
    if (typeof value === 'string') {
      if (constraints.Pattern !== undefined && !new RegExp(constraints.Pattern).test(value)) fail(`must match ${String(constraints.Pattern)}`);
      if (constraints.MinLength !== undefined && value.length < constraints.MinLength) fail(`must be at least ${constraints.MinLength} characters`);
      if (constraints.MaxLength !== undefined && value.length > constraints.MaxLength) fail(`must be at most ${constraints.MaxLength} characters`);
    } else if (typeof value === 'number') {
      if (constraints.InclusiveMinimum !== undefined && value < constraints.InclusiveMinimum) fail(`must be ≥ ${constraints.InclusiveMinimum}`);
      if (constraints.InclusiveMaximum !== undefined && value > constraints.InclusiveMaximum) fail(`must be ≤ ${constraints.InclusiveMaximum}`);
      if (constraints.ExclusiveMinimum !== undefined && value <= constraints.ExclusiveMinimum) fail(`must be > ${constraints.ExclusiveMinimum}`);
      if (constraints.ExclusiveMaximum !== undefined && value >= constraints.ExclusiveMaximum) fail(`must be < ${constraints.ExclusiveMaximum}`);
    } else {
      if (constraints.MinItems !== undefined && value.length < constraints.MinItems) fail(`must hold at least ${constraints.MinItems} items`);
      if (constraints.MaxItems !== undefined && value.length > constraints.MaxItems) fail(`must hold at most ${constraints.MaxItems} items`);
    }
  }
}
