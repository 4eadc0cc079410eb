/** The artifacts `generate` can write (apart from the renderers, so the CLI can list them without loading them). */
export const ARTIFACT_KINDS = [
  "serve",
  "docker",
  "compose",
  "k8s",
  "helm",
  "multinode",
  "profile",
  "plan",
] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];
