import { describe, expect, it } from 'vitest';
import { type CachedModel, ModelCache, modelBytes } from '#commons/jobs/model-cache.js';

const NOW = 1_800_000_000;
const model = (width: number, expiresAt = NOW + 3600): CachedModel => ({
  coefficients: Array.from({ length: width }, (_, j) => j),
  intercept: 1,
  expiresAt,
  columns: [],
});
const weight = (tenantId: string, modelId: string, width: number) => modelBytes(`${tenantId}\u0000${modelId}`, model(width));

describe('ModelCache', () => {
  it('weighs a model by its coefficients, its key and a fixed overhead', () => {
    expect(modelBytes('t\u0000m', model(100))).toBe(200 + 2 * 3 + 24 * 100);
  });

  it('weighs the column names and levels a prediction by name needs too', () => {
    const named: CachedModel = {
      ...model(3),
      columns: [
        { name: 'Sepal.Width', index: 0, type: 'number' },
        { name: 'Species', index: 1, type: 'category', levels: ['setosa', 'versicolor', 'virginica'] },
      ],
    };
    // 5 strings (two names, three levels) of 11 + 7 + 6 + 10 + 9 characters, beside the key's 3.
    expect(modelBytes('t\u0000m', named)).toBe(200 + 2 * (3 + 43) + 24 * (3 + 5));
  });

  it('keeps models apart by tenant: the same model id under another tenant is not found', () => {
    const cache = new ModelCache(1_000_000, () => NOW);
    const mine = model(2);
    cache.set('acme', 'M1', mine);
    expect(cache.get('acme', 'M1')).toBe(mine);
    expect(cache.get('other', 'M1')).toBeUndefined();
  });

  it('drops the least recently used models to stay within its bytes, a hit counting as a use', () => {
    const bound = weight('t', 'A', 10) * 3;
    const cache = new ModelCache(bound, () => NOW);
    for (const id of ['A', 'B', 'C']) cache.set('t', id, model(10));
    expect(cache.size).toEqual({ models: 3, bytes: bound });
    cache.get('t', 'A'); // A is now the most recent
    cache.set('t', 'D', model(10));
    expect(['A', 'B', 'C', 'D'].filter((id) => cache.get('t', id) !== undefined)).toEqual(['A', 'C', 'D']);
    expect(cache.size.bytes).toBeLessThanOrEqual(bound);
  });

  it('makes room for a large model by dropping as many small ones as it takes', () => {
    const cache = new ModelCache(weight('t', 'A', 10) * 2 + 24 * 5, () => NOW);
    cache.set('t', 'A', model(10));
    cache.set('t', 'B', model(10));
    cache.set('t', 'L', model(20));
    expect(cache.size.models).toBe(1);
    expect(cache.get('t', 'L')).toBeDefined();
  });

  it('does not hold a model larger than its whole bound, and keeps what it had', () => {
    const cache = new ModelCache(weight('t', 'A', 10), () => NOW);
    cache.set('t', 'A', model(10));
    cache.set('t', 'HUGE', model(1000));
    expect(cache.get('t', 'HUGE')).toBeUndefined();
    expect(cache.get('t', 'A')).toBeDefined();
  });

  it('drops a model once it expires, and counts its bytes no more', () => {
    let now = NOW;
    const cache = new ModelCache(1_000_000, () => now);
    cache.set('t', 'A', model(10, NOW + 60));
    now = NOW + 60;
    expect(cache.get('t', 'A')).toBeUndefined();
    expect(cache.size).toEqual({ models: 0, bytes: 0 });
  });

  it('replaces a model set twice without counting it twice', () => {
    const cache = new ModelCache(1_000_000, () => NOW);
    cache.set('t', 'A', model(10));
    cache.set('t', 'A', model(10));
    expect(cache.size).toEqual({ models: 1, bytes: weight('t', 'A', 10) });
  });

  it('refuses a negative bound', () => {
    expect(() => new ModelCache(-1)).toThrow('maxBytes must be >= 0');
  });
});
