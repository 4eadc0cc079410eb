export * from "./gpu-spec.js";
export * from "./match-gpu.js";
export * from "./memory-size.js";
