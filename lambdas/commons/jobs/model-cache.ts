/**
 * TRAINED models held in memory by the predict function, so a warm prediction is
 * one lookup and d multiply-adds instead of a DynamoDB read. A TRAINED model never
 * changes (docs/rules.md), so an entry is never stale; it leaves the cache only
 * when the model expires (its `expiresAt`, when the table's TTL deletes it: models
 * are deleted in no other way) or to make room.
 *
 * Bounded by bytes, not entries: a model's weight is its coefficients (24 bytes
 * each: a JavaScript array holds a number as a pointer to an 8-byte double and its
 * header, in the worst case) plus its key and a fixed overhead, so a few 1,000-feature models cannot
 * crowd the memory that many small ones would fit in. The least recently used go
 * first. Entries are keyed by tenant and model id together: a model is found only
 * under the tenant it belongs to, as in the table.
 */

import type { DesignColumn } from '#domain/design.js';

export interface CachedModel {
  readonly coefficients: readonly number[];
  readonly intercept: number;
  /** The columns a prediction by name gives (src/domain/design.ts modelColumns). */
  readonly columns: readonly DesignColumn[];
  /** Epoch seconds: the model's TTL; past it the entry is dropped and the table asked again. */
  readonly expiresAt: number;
}

/** A Map entry, the model object and its array header, roughly, in bytes. */
const ENTRY_OVERHEAD_BYTES = 200;
const BYTES_PER_COEFFICIENT = 24;

/** What one model costs the cache, in bytes. */
export function modelBytes(key: string, model: CachedModel): number {
  // Column names and levels are strings: two bytes a character, and the same overhead per string as a coefficient.
  let strings = 0;
  let characters = key.length;
  for (const column of model.columns) {
    strings += 1 + (column.levels?.length ?? 0);
    characters += column.name.length + (column.levels?.reduce((sum, level) => sum + level.length, 0) ?? 0);
  }
  return ENTRY_OVERHEAD_BYTES + 2 * characters + BYTES_PER_COEFFICIENT * (model.coefficients.length + strings);
}

export class ModelCache {
  /** Insertion order is recency order: a hit moves its entry to the end. */
  private readonly entries = new Map<string, { model: CachedModel; bytes: number }>();
  private used = 0;

  constructor(
    /** The most the entries may weigh together, in bytes. */
    readonly maxBytes: number,
    private readonly nowSeconds: () => number = () => Date.now() / 1000,
  ) {
    if (!(maxBytes >= 0)) throw new Error(`ModelCache: maxBytes must be >= 0; got ${maxBytes}`);
  }

  private static key(tenantId: string, modelId: string): string {
    return `${tenantId}\u0000${modelId}`;
  }

  /** The tenant's model if it is held and not expired. */
  get(tenantId: string, modelId: string): CachedModel | undefined {
    const key = ModelCache.key(tenantId, modelId);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.model.expiresAt <= this.nowSeconds()) {
      this.used -= entry.bytes;
      return undefined;
    }
    this.entries.set(key, entry);
    return entry.model;
  }

  /** Holds a TRAINED model, dropping the least recently used to make room; one larger than the whole bound is not held. */
  set(tenantId: string, modelId: string, model: CachedModel): void {
    const key = ModelCache.key(tenantId, modelId);
    const bytes = modelBytes(key, model);
    this.delete(key);
    if (bytes > this.maxBytes) return;
    for (const [oldest, entry] of this.entries) {
      if (this.used + bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.used -= entry.bytes;
    }
    this.entries.set(key, { model, bytes });
    this.used += bytes;
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.used -= entry.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.used = 0;
  }

  /** How many models are held, and what they weigh in bytes. */
  get size(): { models: number; bytes: number } {
    return { models: this.entries.size, bytes: this.used };
  }
}
