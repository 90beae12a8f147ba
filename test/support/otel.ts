import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';

/** The `@opentelemetry/api` module shape (any 1.x copy). */
export type OtelApiModule = typeof OtelApi;

const GLOBAL_KEY = Symbol.for('opentelemetry.js.api.1');

/**
 * The `@opentelemetry/api` copy Palisade itself resolves from `libs/palisade` (its own nested copy
 * when npm did not hoist it, else the application's).
 */
export function palisadeOtelApi(): OtelApiModule {
  return createRequire(new URL('../../libs/palisade/package.json', import.meta.url))('@opentelemetry/api') as OtelApiModule;
}

/** A reader that exports nothing on its own: the test pulls the data with `collect()`. */
class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** One data point of a counter: its attributes and its (cumulative) value. */
export interface CounterPoint {
  attributes: Record<string, unknown>;
  value: number;
}

/**
 * An OpenTelemetry SDK `MeterProvider` with an in-memory pull reader, installed as the global
 * meter provider through `api` — what an application does at startup, before Palisade records.
 */
export class InMemoryMetrics {
  private constructor(
    private readonly api: OtelApiModule,
    private readonly provider: MeterProvider,
    private readonly reader: PullReader,
  ) {}

  /** Installs a provider globally through `api`; throws when the registration is refused. */
  static install(api: OtelApiModule): InMemoryMetrics {
    const reader = new PullReader();
    const provider = new MeterProvider({ readers: [reader] });
    if (!api.metrics.setGlobalMeterProvider(provider)) throw new Error('@opentelemetry/api refused the global MeterProvider registration');
    return new InMemoryMetrics(api, provider, reader);
  }

  /** Every metric collected now. */
  async collect(): Promise<MetricData[]> {
    const { resourceMetrics, errors } = await this.reader.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  }

  /** The data points of the counter `name` (empty when it recorded nothing). */
  async counter(name: string): Promise<CounterPoint[]> {
    const metrics = (await this.collect()).filter((metric) => metric.descriptor.name === name);
    return metrics.flatMap((metric) => metric.dataPoints.map((point) => ({ attributes: { ...point.attributes }, value: point.value as number })));
  }

  /** The sum of the counter `name` over all its attribute sets. */
  async total(name: string): Promise<number> {
    return (await this.counter(name)).reduce((sum, point) => sum + point.value, 0);
  }

  /**
   * Removes the global provider and shuts it down. When nothing else is registered, the API's
   * global slot is removed too, so another `@opentelemetry/api` copy may register next.
   */
  async uninstall(): Promise<void> {
    this.api.metrics.disable();
    const slot = (globalThis as Record<symbol, Record<string, unknown> | undefined>)[GLOBAL_KEY];
    if (slot && Object.keys(slot).every((key) => key === 'version')) delete (globalThis as Record<symbol, unknown>)[GLOBAL_KEY];
    await this.provider.shutdown();
  }
}
