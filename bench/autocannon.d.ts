/**
 * The part of autocannon 8's programmatic API the benchmarks use (the package ships no types).
 * Run without a callback, `autocannon(options)` returns a tracker that is also a promise of its
 * result: aggregated, or raw with `skipAggregateResult` so several runs can be merged with
 * `autocannon.aggregateResult`.
 */
declare module 'autocannon' {
  /** What `setupRequest` receives and returns: the request about to be serialized. */
  export interface RequestParams {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
  }

  export interface RequestSpec extends RequestParams {
    /** Called before every request of the connection; returning nothing restarts the list. */
    setupRequest?: (request: RequestParams, context: Record<string, unknown>) => RequestParams | undefined;
    onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string>) => void;
  }

  export interface Options {
    url: string;
    connections?: number;
    pipelining?: number;
    /** Seconds. */
    duration?: number;
    /** Milliseconds between the samples of the per-second histogram; the run stops on one. */
    sampleInt?: number;
    /** Seconds before a request counts as a timeout. */
    timeout?: number;
    method?: string;
    requests?: RequestSpec[];
    /** Responses whose body it refuses are counted in `mismatches`. */
    verifyBody?: (body: string) => boolean;
    skipAggregateResult?: boolean;
  }

  /** Counters every result has, raw or aggregated. */
  export interface Counts {
    /** Seconds the run really took (it stops on a sample tick). */
    duration: number;
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    resets: number;
    '2xx': number;
    statusCodeStats: Record<string, { count: number }>;
  }

  /** A run's result with `skipAggregateResult`: histograms still encoded. */
  export interface RawResult extends Counts {
    totalCompletedRequests: number;
    totalRequests: number;
    latencies: string;
  }

  /** `average`, `mean`, `stddev`, `min`, `max`, `p50`, `p99`, … */
  export interface Histogram {
    mean: number;
    min: number;
    max: number;
    p50: number;
    p90: number;
    p99: number;
    p99_9: number;
  }

  export interface Result extends Counts {
    /** Milliseconds, 2xx responses only. */
    latency: Histogram;
    /** Per-sample counts; `total` is the completed requests and `sent` the requests written. */
    requests: Histogram & { total: number; sent: number };
  }

  export interface Instance<R> extends PromiseLike<R> {
    stop(): void;
  }

  function autocannon(options: Options & { skipAggregateResult: true }): Instance<RawResult>;
  function autocannon(options: Options): Instance<Result>;
  namespace autocannon {
    /** Merges raw results (latency histograms included); `duration` is the first one's. */
    function aggregateResult(results: RawResult[], options: Options): Result;
  }
  export default autocannon;
}
