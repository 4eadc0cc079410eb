import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderCompose } from "../../../src/core/render/compose.js";
import type { Deployment } from "../../../src/core/render/deployment.js";
import { renderDockerRun } from "../../../src/core/render/docker-run.js";
import { renderKubernetes } from "../../../src/core/render/kubernetes.js";
import { renderRayCommands } from "../../../src/core/render/multi-node.js";
import {
  escapeComposeInterpolation,
  escapeKubernetesExpansion,
  renderYamlDocuments,
} from "../../../src/core/render/yaml-text.js";
import { multiNode2x8, nvidiaOneGpu } from "./deployment-cases.js";
import { expandKubernetes, interpolateCompose } from "./interpolation.js";
import { type Manifest, parseManifests } from "./parse-manifests.js";
import { runShell } from "./run-shell.js";

/** Text full of what shells, YAML, Compose and Kubernetes treat specially, plus any other character. */
const hostileText = fc.oneof(
  fc.string({
    unit: fc.constantFrom(..."aZ09 $\"'`\\\n\t(){}[]*?~#;&|<>!:-=%@,.^/".split("")),
    maxLength: 24,
  }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.constantFrom(
    "on",
    "yes",
    "y",
    "no",
    "null",
    "~",
    "0.90",
    "8000",
    "1e3",
    "0x1F",
    "12:30",
    "-",
    "--",
    "#",
    "<<",
  ),
);
const modelName = hostileText.filter((s) => !s.includes("\0") && !s.startsWith("/"));
const VARS = {
  HOME: "/home/tester",
  USER: "tester",
  HF_TOKEN: "hf_secret",
  HF_HOME: "/root/.cache/huggingface",
};

function withModel(d: Deployment, model: string): Deployment {
  return { ...d, modelId: model, serveArgv: ["vllm", "serve", model, ...d.serveArgv.slice(3)] };
}

describe("quoting of user-given text", () => {
  it("YAML documents read back to the same data under YAML 1.1 and 1.2", () => {
    fc.assert(
      fc.property(
        fc.array(hostileText),
        fc.dictionary(hostileText, hostileText),
        hostileText,
        (list, map, note) => {
          const data = { list, map };
          const text = renderYamlDocuments([data, list], [note]);
          for (const version of ["1.1", "1.2"] as const) {
            const docs = text.split(/^---$/m);
            expect(docs).toHaveLength(2);
            expect(parse(docs[0] as string, { version })).toEqual(data);
            expect(parse(docs[1] as string, { version })).toEqual(list);
          }
        },
      ),
    );
  });

  it("Kubernetes and Compose escapes are undone by their expansion, whatever the variables", () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        expect(expandKubernetes(escapeKubernetesExpansion(text), VARS)).toBe(text);
        expect(interpolateCompose(escapeComposeInterpolation(text), VARS)).toBe(text);
      }),
    );
  });

  it("a docker run command gives docker the model name unchanged", () => {
    fc.assert(
      fc.property(modelName, (model) => {
        const run = runShell(renderDockerRun(withModel(nvidiaOneGpu, model)), { programs: ["docker"] });
        const argv = run.calls[0] as string[];
        expect(argv[argv.indexOf(nvidiaOneGpu.image) + 1]).toBe(model);
      }),
      { numRuns: 40 },
    );
  });

  it("Compose and Kubernetes give the container the model name unchanged", () => {
    fc.assert(
      fc.property(modelName, (model) => {
        const d = withModel(nvidiaOneGpu, model);
        const compose = parse(renderCompose(d), { version: "1.1" }).services[d.name];
        expect(interpolateCompose(compose.command[0], VARS)).toBe(model);
        const deployment = parseManifests(renderKubernetes(d))[1] as Manifest;
        const args = deployment.spec.template.spec.containers[0].args as string[];
        expect(expandKubernetes(args[0] as string, VARS)).toBe(model);
      }),
      { numRuns: 60 },
    );
  });

  it("the Ray script serves the model name unchanged", () => {
    fc.assert(
      fc.property(modelName, (model) => {
        const run = runShell(renderRayCommands(withModel(multiNode2x8, model)), { args: ["serve"] });
        expect(run.calls[0]?.[2]).toBe(model);
      }),
      { numRuns: 40 },
    );
  });
});
