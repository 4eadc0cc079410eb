/**
 * Which engine serves a model name: the gateway's view of the instances (their records under the
 * data dir), what can be started on demand (stored recipes with onDemand, and stopped instances whose
 * launch asked for it), and each instance's idle TTL. Rebuilt when an instance changes state (the
 * `instance` events), every few seconds, and once more before a name is declared unknown; requests
 * read the last build, so routing costs a map lookup.
 *
 * A model answers to its served name (what the engine calls it), the model it serves (the Hugging
 * Face id or file) and the instance name.
 */
import type { InstanceRecord } from "../../runtime/supervisor/instance.js";
import { listInstances } from "../../runtime/supervisor/state-store.js";
import type { StudioContext } from "../context.js";
import type { LaunchBody } from "../lifecycle/launch-request.js";
import { LifecycleStore } from "../lifecycle/store.js";
import { listStoredRecipes } from "../recipes/store.js";

export interface RouteTarget {
  instance: string;
  servedModelName: string;
  model: string;
  engine: string;
  host: string;
  port: number;
}

/** Something the gateway may start for a model: a launch request, with the TTL it brings. */
export interface StartableModel {
  /** The name clients use (served name: the recipe's model, or the stopped instance's served name). */
  id: string;
  body: LaunchBody;
  source: "recipe" | "instance";
  sourceId: string;
}

export type Resolution =
  | { kind: "ready"; targets: RouteTarget[] }
  | { kind: "starting"; instance: string }
  | { kind: "startable"; startable: StartableModel }
  | { kind: "stopped"; instance: string }
  | { kind: "unknown" };

interface Table {
  ready: Map<string, RouteTarget[]>;
  starting: Map<string, string>;
  stopped: Map<string, string>;
  startable: Map<string, StartableModel>;
  /** Idle TTL (seconds) per ready instance that has one, with when it became ready. */
  ttl: Map<string, { seconds: number; readyAtMs: number }>;
  records: InstanceRecord[];
}

const EMPTY: Table = {
  ready: new Map(),
  starting: new Map(),
  stopped: new Map(),
  startable: new Map(),
  ttl: new Map(),
  records: [],
};

function namesOf(record: InstanceRecord): string[] {
  return [...new Set([record.servedModelName, record.model, record.name])];
}

function add<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export class RoutingTable {
  private table: Table = EMPTY;
  private building: Promise<void> | null = null;
  /** Changes announced (invalidate) and the last change a finished rebuild has seen. */
  private version = 0;
  private builtVersion = 0;
  private readonly launches: LifecycleStore;

  constructor(private readonly ctx: StudioContext) {
    this.launches = new LifecycleStore(ctx.db, Date.now);
  }

  resolve(model: string): Resolution {
    const t = this.table;
    const ready = t.ready.get(model);
    if (ready && ready.length > 0) return { kind: "ready", targets: ready };
    const starting = t.starting.get(model);
    if (starting !== undefined) return { kind: "starting", instance: starting };
    const startable = t.startable.get(model);
    if (startable !== undefined) return { kind: "startable", startable };
    const stopped = t.stopped.get(model);
    if (stopped !== undefined) return { kind: "stopped", instance: stopped };
    return { kind: "unknown" };
  }

  /** Ready instances (one entry each) and the startable models, for /v1/models. */
  listing() {
    const t = this.table;
    const live = t.records.filter((r) => r.status === "ready" || r.status === "starting");
    const liveNames = new Set(live.flatMap(namesOf));
    return {
      instances: live,
      startable: [...new Map([...t.startable.values()].map((s) => [s.id, s])).values()].filter(
        (s) => !liveNames.has(s.id),
      ),
    };
  }

  ttlOf(instance: string) {
    return this.table.ttl.get(instance) ?? null;
  }

  /** Rebuilds the table (concurrent callers share one rebuild). */
  refresh(): Promise<void> {
    if (this.building === null) {
      const version = this.version;
      this.building = this.build()
        .then(() => {
          this.builtVersion = Math.max(this.builtVersion, version);
        })
        .finally(() => {
          this.building = null;
        });
    }
    return this.building;
  }

  /** An instance changed: the table is stale until the next rebuild that starts after now. */
  invalidate(): void {
    this.version += 1;
    void this.fresh().catch(() => undefined);
  }

  /** Resolves once the table reflects every change announced so far. */
  async fresh(): Promise<void> {
    while (this.builtVersion < this.version) {
      // a rebuild already running may have read the old state: wait for it, then build again
      if (this.building !== null) await this.building.catch(() => undefined);
      else await this.refresh();
    }
  }

  get stale(): boolean {
    return this.builtVersion < this.version;
  }

  private async build(): Promise<void> {
    const [records, recipes] = await Promise.all([
      listInstances(this.ctx.dataDir),
      listStoredRecipes(this.ctx.db),
    ]);
    const table: Table = {
      ready: new Map(),
      starting: new Map(),
      stopped: new Map(),
      startable: new Map(),
      ttl: new Map(),
      records,
    };
    const recipeById = new Map(recipes.map((r) => [r.studio.recipe.id, r.studio]));
    for (const stored of recipes) {
      if (!stored.studio.onDemand) continue;
      const id = stored.studio.recipe.model;
      table.startable.set(id, {
        id,
        body: { recipeId: stored.studio.recipe.id },
        source: "recipe",
        sourceId: stored.studio.recipe.id,
      });
    }
    for (const record of records) {
      const launch = await this.launches.launchOf(record.name);
      const recipe = recipeById.get(record.recipeId);
      const onDemand = launch?.request.onDemand ?? recipe?.onDemand ?? false;
      const ttl = launch?.request.idleTtlSeconds ?? recipe?.idleTtlSeconds ?? null;
      if (record.status === "ready") {
        const target: RouteTarget = {
          instance: record.name,
          servedModelName: record.servedModelName,
          model: record.model,
          engine: record.engine,
          host: record.host === "0.0.0.0" ? "127.0.0.1" : record.host,
          port: record.port,
        };
        for (const name of namesOf(record)) add(table.ready, name, target);
        if (ttl !== null) {
          table.ttl.set(record.name, {
            seconds: ttl,
            readyAtMs: Date.parse(record.readyAt ?? record.createdAt),
          });
        }
      } else if (record.status === "starting") {
        for (const name of namesOf(record)) table.starting.set(name, record.name);
      } else {
        for (const name of namesOf(record)) table.stopped.set(name, record.name);
        if (onDemand && launch !== null) {
          const body: LaunchBody = { ...launch.request, name: record.name };
          for (const name of namesOf(record)) {
            if (!table.startable.has(name)) {
              table.startable.set(name, {
                id: record.servedModelName,
                body,
                source: "instance",
                sourceId: record.name,
              });
            }
          }
        }
      }
    }
    this.table = table;
  }
}
