import { join } from "node:path";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { NodeSelectorTerm } from "kubernetes-models/v1/NodeSelectorTerm";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { PodTemplateSpec } from "kubernetes-models/v1/PodTemplateSpec";
import { Service } from "kubernetes-models/v1/Service";
import ts from "typescript";

/**
 * Kubernetes objects checked two ways, both from the Kubernetes OpenAPI definitions as the
 * kubernetes-models package ships them (tommy351/kubernetes-models-ts): its `validate()` checks types,
 * formats (quantities, int-or-string), enums and required fields; its TypeScript declarations catch
 * fields the API does not have (the OpenAPI schema allows them, the API server drops or refuses them),
 * through the compiler's excess-property check on the object as a literal.
 */
export const KUBERNETES_TYPES = {
  Deployment: { module: "kubernetes-models/apps/v1/Deployment", type: "IDeployment", model: Deployment },
  Service: { module: "kubernetes-models/v1/Service", type: "IService", model: Service },
  PersistentVolumeClaim: {
    module: "kubernetes-models/v1/PersistentVolumeClaim",
    type: "IPersistentVolumeClaim",
    model: PersistentVolumeClaim,
  },
  PodTemplateSpec: {
    module: "kubernetes-models/v1/PodTemplateSpec",
    type: "IPodTemplateSpec",
    model: PodTemplateSpec,
  },
  NodeSelectorTerm: {
    module: "kubernetes-models/v1/NodeSelectorTerm",
    type: "INodeSelectorTerm",
    model: NodeSelectorTerm,
  },
} as const;
export type KubernetesType = keyof typeof KUBERNETES_TYPES;

/** Schema errors of `value` as a `type` (kubernetes-models validate), as "path message" lines. */
export function schemaErrors(type: KubernetesType, value: unknown): string[] {
  const Model = KUBERNETES_TYPES[type].model as unknown as new (data: unknown) => { validate(): void };
  try {
    new Model(value).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: { instancePath: string; message?: string }[] }).errors;
    return errors ? errors.map((e) => `${e.instancePath} ${e.message ?? ""}`) : [String(error)];
  }
}

/** Compiler errors for each object written as a literal of its Kubernetes type (unknown fields, wrong types). */
export function typeErrors(objects: readonly { type: KubernetesType; value: unknown }[]): string[] {
  const file = join(process.cwd(), "test/core/render/__kubernetes-literals__.ts");
  const used = [...new Set(objects.map((o) => o.type))];
  const source = [
    ...used.map((t) => `import type { ${KUBERNETES_TYPES[t].type} } from "${KUBERNETES_TYPES[t].module}";`),
    ...objects.map(
      (o, i) => `export const object${i}: ${KUBERNETES_TYPES[o.type].type} = ${JSON.stringify(o.value)};`,
    ),
  ].join("\n");
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (name) => name === file || ts.sys.fileExists(name);
  host.readFile = (name) => (name === file ? source : readFile(name));
  host.getSourceFile = (name, version, onError, create) =>
    name === file
      ? ts.createSourceFile(name, source, version, true)
      : getSourceFile(name, version, onError, create);
  const program = ts.createProgram([file], options, host);
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(file))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}
