/** The shapes of the studio's answers that the pages read (only the fields they use). */

export interface InstanceGpu {
  index: number;
  uuid?: string | null;
  name?: string | null;
}

export interface Instance {
  name: string;
  status: string;
  phase?: string | null;
  alive?: boolean;
  healthy?: boolean;
  model: string;
  engine: string;
  engineVersion?: string | null;
  recipeId?: string | null;
  gpus: (InstanceGpu | number)[];
  port?: number | null;
  endpoint?: string | null;
  failure?: string | { message?: string } | null;
  launching?: { phase: string; percent: number | null; startedAt: string; reason: string } | null;
}

export interface Gpu {
  key: string;
  vendor: string;
  index: number;
  name: string;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  utilizationPercent: number | null;
  powerDrawW: number | null;
  powerLimitW: number | null;
  temperatureC: number | null;
}

export interface GpuSample {
  at: string;
  ok: boolean;
  gpus: Gpu[];
  error?: unknown;
}

export interface EngineMetrics {
  instance: string;
  model: string;
  generationTokensPerSecond: number | null;
  promptTokensPerSecond: number | null;
  kvCacheUsagePercent: number | null;
  runningRequests: number | null;
  waitingRequests: number | null;
  scrapedAt: string;
  stale: boolean;
}

export interface LaunchEvent {
  instance: string;
  phase: string;
  percent: number | null;
  line?: string;
  reason?: string;
}

export interface RecipeEntry {
  id: string;
  source: string;
  recipe: {
    id: string;
    model: string;
    engine?: string;
    hardware?: string[];
    gpuCount?: number;
    precision?: string;
  };
}
