export interface Forecast {
  readonly city: string;
  readonly lowC: number;
  readonly highC: number;
  readonly summary: string;
}

/** One aligned line per city, coldest first, so the digest reads well in a terminal. */
export function formatDigest(forecasts: readonly Forecast[]): string {
  const width = Math.max(...forecasts.map((forecast) => forecast.city.length));
  return [...forecasts]
    .sort((a, b) => a.lowC - b.lowC)
    .map((forecast) => `${forecast.city.padEnd(width)}  ${forecast.lowC}–${forecast.highC} °C  ${forecast.summary}`)
    .join('\n');
}
