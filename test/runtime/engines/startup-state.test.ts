/** Folding events into a startup state: a real vLLM startup, failures, phase order, llama.cpp buffers. */
import { describe, expect, it } from "vitest";
import { readLlamacppStartup } from "../../../src/runtime/engines/llamacpp-log.js";
import { failureEvent, phaseEvent } from "../../../src/runtime/engines/log-events.js";
import { readSglangStartup } from "../../../src/runtime/engines/sglang-log.js";
import {
  foldStartupEvent,
  initialStartupState,
  primaryFailure,
} from "../../../src/runtime/engines/startup-state.js";
import { readVllmStartup } from "../../../src/runtime/engines/vllm-log.js";
import { readCapturedLines } from "./captured-lines.js";

const DUO_TALK = "https://github.com/kumaxxp/duo-talk/blob/17ead6afd5035a66da08f1403db83dbf3e359e78/vllm.log";

describe("readVllmStartup", () => {
  it("reads a whole vLLM 0.13.0 startup into the figures and a ready state", () => {
    const lines = readCapturedLines()
      .filter((row) => row.source === DUO_TALK)
      .map((row) => row.line);
    const state = readVllmStartup(lines);
    expect(state.status).toBe("ready");
    expect(state.phase).toBe("ready");
    expect(state.failures).toEqual([]);
    expect(state.actual).toEqual({
      engineVersion: "0.13.0",
      weightsGiB: 9.3795,
      weightsSeconds: 854.112029,
      availableKvGiB: 10.39,
      kvCacheTokens: 56736,
      gpuBlocks: null,
      maxConcurrency: 6.93,
      maxConcurrencyTokensPerRequest: 8192,
      cudaGraphGiB: 1.18,
    });
  });

  it("keeps the progress of the current phase and drops it when the phase changes", () => {
    const loading = readVllmStartup([
      "(EngineCore_DP0 pid=1) Loading safetensors checkpoint shards:  33% Completed | 1/3 [00:02<00:05,  2.57s/it]",
    ]);
    expect(loading.phase).toBe("loading-weights");
    expect(loading.phasePercent).toBe(33);
    const profiled = readVllmStartup(["Available KV cache memory: 10.39 GiB"], loading);
    expect(profiled.phase).toBe("profiling-memory");
    expect(profiled.phasePercent).toBeNull();
  });

  it("names the most specific failure and keeps the figures of a max-model-len failure", () => {
    const state = readVllmStartup([
      "Model loading took 17.6110 GiB and 12.273077 seconds",
      "ValueError: To serve at least one request with the models's max seq len (262144), (24.0 GiB KV cache is needed, which is larger than the available KV cache memory (3.18 GiB). Based on the available memory, the estimated maximum model length is 34736.",
      "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}",
      "ValueError: To serve at least one request with the models's max seq len (262144), (24.0 GiB KV cache is needed, which is larger than the available KV cache memory (3.18 GiB). Based on the available memory, the estimated maximum model length is 34736.",
    ]);
    expect(state.status).toBe("failed");
    expect(state.failures.map((f) => f.cause)).toEqual(["max-model-len-too-large", "engine-init-failed"]);
    expect(primaryFailure(state)).toMatchObject({
      cause: "max-model-len-too-large",
      estimatedMaxModelLen: 34736,
    });
    expect(state.actual.availableKvGiB).toBe(3.18);
    expect(state.actual.weightsGiB).toBe(17.611);
  });

  it("reports the generic failure when nothing more specific was logged", () => {
    const state = readVllmStartup(["RuntimeError: Engine core initialization failed. See root cause above."]);
    expect(primaryFailure(state)?.cause).toBe("engine-init-failed");
    expect(primaryFailure(initialStartupState())).toBeNull();
  });
});

describe("foldStartupEvent", () => {
  it("never moves the phase back (tensor-parallel ranks log out of order)", () => {
    let state = foldStartupEvent(initialStartupState(), phaseEvent("capturing-cuda-graphs", 40));
    state = foldStartupEvent(state, phaseEvent("loading-weights", 100));
    expect(state.phase).toBe("capturing-cuda-graphs");
    expect(state.phasePercent).toBe(40);
  });

  it("does not turn a failed startup into a ready one", () => {
    let state = foldStartupEvent(initialStartupState(), failureEvent("address-in-use", "x", { port: 8000 }));
    state = foldStartupEvent(state, { type: "ready", url: null });
    expect(state.status).toBe("failed");
  });
});

describe("readSglangStartup", () => {
  it("reads weights, KV cache, URL and readiness", () => {
    const state = readSglangStartup([
      "[2025-12-29 18:33:03 TP0] Load weight begin. avail mem=15.33 GB",
      "[2025-12-29 18:33:03 TP0] Load weight end. type=Lfm2ForCausalLM, dtype=torch.bfloat16, avail mem=13.81 GB, mem usage=1.52 GB.",
      "[2025-12-29 18:33:03 TP0] KV Cache is allocated. #tokens: 473854, K size: 2.71 GB, V size: 2.71 GB",
      "[2025-12-29 18:33:04 TP0] Capture cuda graph end. Time elapsed: 1.01 s. mem usage=0.03 GB. avail mem=2.39 GB.",
      "[2025-12-29 18:33:05] INFO:     Uvicorn running on http://127.0.0.1:30000 (Press CTRL+C to quit)",
      "[2025-12-29 18:33:06] The server is fired up and ready to roll!",
    ]);
    expect(state.status).toBe("ready");
    expect(state.url).toBe("http://127.0.0.1:30000");
    expect(state.actual).toMatchObject({ weightsGiB: 1.52, kvCacheTokens: 473854, cudaGraphGiB: 0.03 });
    expect(state.actual.availableKvGiB).toBeCloseTo(5.42, 6);
  });
});

describe("readLlamacppStartup", () => {
  it("sums GPU buffers per kind and leaves host buffers out", () => {
    const state = readLlamacppStartup([
      "load_tensors:        CUDA0 model buffer size = 48928.09 MiB",
      "load_tensors:        CUDA1 model buffer size = 70752.48 MiB",
      "load_tensors:   CPU_Mapped model buffer size =   500.00 MiB",
      "llama_kv_cache:      CUDA0 KV buffer size =   512.00 MiB",
      "llama_kv_cache:      CUDA1 KV buffer size =   512.00 MiB",
      "llama_context:  CUDA_Host compute buffer size =    78.01 MiB",
      "llama_context: n_ctx         = 8192",
      "main: server is listening on http://127.0.0.1:8080 - starting the main loop",
    ]);
    expect(state.actual.weightsGiB).toBeCloseTo((48928.09 + 70752.48) / 1024, 6);
    expect(state.actual.availableKvGiB).toBe(1);
    expect(state.actual.kvCacheTokens).toBe(8192);
    expect(state.deviceBuffersMiB["CUDA_Host compute"]).toBe(78.01);
    expect(state).toMatchObject({ status: "ready", url: "http://127.0.0.1:8080" });
  });
});
