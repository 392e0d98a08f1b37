/**
 * Counters of the per-script path, kept in plain maps and handed to the OpenTelemetry SDK only when
 * metrics are collected.
 *
 * A synchronous `Counter.add` hashes its attributes (sorting and serialising them) on every call,
 * about a microsecond each; a script with one tool call made four of them. Every attribute object
 * on this path is built once per label and reused, so counting is a map lookup by identity, and the
 * SDK sees the totals through observable instruments: the same metric names, types and labels.
 */
import type { Attributes, BatchObservableResult, Observable } from '@opentelemetry/api';

export class Tally {
  readonly #counts = new Map<Attributes | undefined, number>();

  /** Adds `delta` to the series of `attributes` (an object reused for every call of its series). */
  add(attributes: Attributes | undefined, delta = 1): void {
    this.#counts.set(attributes, (this.#counts.get(attributes) ?? 0) + delta);
  }

  /** Reports every series to `instrument`; called from the meter's batch callback. */
  observe(result: BatchObservableResult, instrument: Observable): void {
    for (const [attributes, value] of this.#counts) result.observe(instrument, value, attributes);
  }
}
