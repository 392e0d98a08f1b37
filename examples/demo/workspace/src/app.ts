import { type Forecast, formatDigest } from './digest.ts';

const FORECAST_URL = process.env.FORECAST_URL ?? 'https://forecast.example/v1';

// TODO: read the city list from a config file instead of hard-coding it
const cities = ['Lisbon', 'Oslo', 'Nairobi'];

async function fetchForecast(city: string): Promise<Forecast> {
  // TODO: retry with backoff when the forecast service answers 429
  const response = await fetch(`${FORECAST_URL}/${encodeURIComponent(city)}`);
  if (!response.ok) throw new Error(`forecast for ${city} failed with HTTP ${response.status}`);
  const body = (await response.json()) as { low: number; high: number; text: string };
  return { city, lowC: body.low, highC: body.high, summary: body.text };
}

const forecasts = await Promise.all(cities.map(fetchForecast));
console.log(formatDigest(forecasts));
