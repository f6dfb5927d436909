/**
 * A small typed builder for Azure Resource Manager (ARM) deployment templates: parameters,
 * variables, resources and outputs as TypeScript values, template-language expressions as typed
 * objects (so a parameter or a resource is referenced through the value the builder returned, never
 * by retyping its name), rendered to the JSON `az deployment group create` takes.
 */

/** A template-language expression (rendered as `"[…]"`). */
export class ArmExpression {
  constructor(
    /** The expression without the surrounding brackets, e.g. `parameters('location')`. */
    readonly text: string,
  ) {}

  /** A property of the value: `reference(…).clientId`, `…['kubelet identity']`. */
  property(...path: readonly string[]): ArmExpression {
    return new ArmExpression(path.reduce((text, part) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part) ? `${text}.${part}` : `${text}['${part.replace(/'/g, "''")}']`), this.text));
  }

  toJSON(): string {
    return `[${this.text}]`;
  }
}

/** What a template property may hold. */
export type ArmValue = string | number | boolean | null | ArmExpression | readonly ArmValue[] | { readonly [key: string]: ArmValue | undefined };

/** An argument of a template function: an expression, or a literal. */
export type ArmArgument = ArmExpression | string | number | boolean;

function argument(value: ArmArgument): string {
  if (value instanceof ArmExpression) return value.text;
  if (typeof value === 'string') return `'${value.replace(/'/g, "''")}'`;
  return String(value);
}

/** `name(arg, …)`: any template function. */
export function call(name: string, ...args: readonly ArmArgument[]): ArmExpression {
  return new ArmExpression(`${name}(${args.map(argument).join(', ')})`);
}

export const format = (template: string, ...args: readonly ArmArgument[]): ArmExpression => call('format', template, ...args);
export const resourceGroupLocation = (): ArmExpression => new ArmExpression('resourceGroup().location');
export const resourceGroupId = (): ArmExpression => new ArmExpression('resourceGroup().id');
export const subscriptionId = (): ArmExpression => new ArmExpression('subscription().subscriptionId');
export const tenantId = (): ArmExpression => new ArmExpression('tenant().tenantId');
export const guid = (...args: readonly ArmArgument[]): ArmExpression => call('guid', ...args);
export const uniqueString = (...args: readonly ArmArgument[]): ArmExpression => call('uniqueString', ...args);
/** The id of a built-in role, e.g. Storage Blob Data Reader. */
export const roleDefinitionId = (roleGuid: string): ArmExpression => call('subscriptionResourceId', 'Microsoft.Authorization/roleDefinitions', roleGuid);

export type ParameterType = 'string' | 'securestring' | 'int' | 'bool' | 'object' | 'array';

export interface ParameterDefinition {
  readonly type: ParameterType;
  /** What the parameter is for (shown by the portal and `az deployment`). */
  readonly description: string;
  readonly defaultValue?: ArmValue;
  readonly allowedValues?: readonly (string | number)[];
  readonly minValue?: number;
  readonly maxValue?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
}

export interface ResourceDefinition {
  /** e.g. `Microsoft.Storage/storageAccounts/blobServices/containers` */
  readonly type: string;
  /** e.g. `2023-01-01` */
  readonly apiVersion: string;
  /** One segment per level of the type (a child resource's name is `parent/child`). */
  readonly name: readonly ArmArgument[];
  readonly location?: ArmValue;
  readonly kind?: string;
  readonly sku?: ArmValue;
  readonly identity?: ArmValue;
  readonly tags?: ArmValue;
  readonly zones?: ArmValue;
  /** For extension resources (role assignments): the resource they apply to. */
  readonly scope?: ArmValue;
  /** Deploy the resource only when this is true (a `bool` expression). @default - always */
  readonly condition?: ArmValue;
  readonly properties?: ArmValue;
  readonly dependsOn?: readonly ArmResource[];
  readonly comments?: string;
}

/** A resource in the template: how others refer to it. */
export class ArmResource {
  constructor(readonly definition: ResourceDefinition) {}

  /** `resourceId('<type>', '<name segment>', …)` */
  get id(): ArmExpression {
    return call('resourceId', this.definition.type, ...this.definition.name);
  }

  /** The deployed resource's runtime state: `reference(<id>, '<apiVersion>')` (optionally `'Full'`). */
  reference(full = false): ArmExpression {
    return full ? call('reference', this.id, this.definition.apiVersion, 'Full') : call('reference', this.id, this.definition.apiVersion);
  }

  /** The name as one value (`a/b/c` for a child). */
  get name(): ArmArgument {
    const segments = this.definition.name;
    if (segments.length === 1) return segments[0];
    return format(segments.map((_, index) => `{${index}}`).join('/'), ...segments);
  }
}

export interface OutputDefinition {
  readonly type: ParameterType;
  readonly value: ArmValue;
  readonly description: string;
}

export const DEPLOYMENT_TEMPLATE_SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';

/** A deployment template being built. */
export class ArmTemplate {
  private readonly parameters = new Map<string, ParameterDefinition>();
  private readonly variables = new Map<string, ArmValue>();
  private readonly resources: ArmResource[] = [];
  private readonly outputs = new Map<string, OutputDefinition>();

  constructor(private readonly description: string) {}

  parameter(name: string, definition: ParameterDefinition): ArmExpression {
    if (this.parameters.has(name)) throw new Error(`parameter '${name}' is declared twice`);
    this.parameters.set(name, definition);
    return call('parameters', name);
  }

  variable(name: string, value: ArmValue): ArmExpression {
    if (this.variables.has(name)) throw new Error(`variable '${name}' is declared twice`);
    this.variables.set(name, value);
    return call('variables', name);
  }

  resource(definition: ResourceDefinition): ArmResource {
    const resource = new ArmResource(definition);
    this.resources.push(resource);
    return resource;
  }

  output(name: string, definition: OutputDefinition): void {
    if (this.outputs.has(name)) throw new Error(`output '${name}' is declared twice`);
    this.outputs.set(name, definition);
  }

  /** The template as JSON-ready data. */
  toJson(): Record<string, unknown> {
    const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;
    return {
      $schema: DEPLOYMENT_TEMPLATE_SCHEMA,
      contentVersion: '1.0.0.0',
      metadata: { description: this.description, generator: 'providers/azure/infra (retail-mlops): do not edit, run `npm run azure:template`' },
      parameters: Object.fromEntries(
        [...this.parameters].map(([name, { description, ...rest }]) => [name, plain({ ...rest, metadata: { description } })]),
      ),
      variables: plain(Object.fromEntries(this.variables)),
      resources: this.resources.map(({ definition }) => {
        const { name, dependsOn, type, apiVersion, ...rest } = definition;
        const resource = new ArmResource(definition);
        return plain({
          type,
          apiVersion,
          name: resource.name instanceof ArmExpression ? resource.name : name[0],
          ...rest,
          ...(dependsOn && dependsOn.length > 0 ? { dependsOn: dependsOn.map((dependency) => dependency.id) } : {}),
        });
      }),
      outputs: Object.fromEntries([...this.outputs].map(([name, { description, ...rest }]) => [name, plain({ ...rest, metadata: { description } })])),
    };
  }
}
