/**
 * Seeded synthetic regression data for the benchmarks: y = X·w + b + noise with
 * standard normal features, written as CSV the way pandas or numpy export floats
 * (shortest round-trip text, ~18 characters a value). The same seed always writes
 * the same bytes, so Node and scikit-learn read identical files.
 */

import { once } from 'node:events';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gaussian, random } from '../test/unit/helpers/random.js';

export const DATA_DIR = join(dirname(fileURLToPath(import.meta.url)), 'data');

export interface DatasetSpec {
  rows: number;
  features: number;
  seed: number;
  /** Round every value to this many decimals (smaller files); full precision when absent. */
  decimals?: number;
}

/** The true model behind a generated file: coefficient j is (j+1) * (-1)^j / 2, intercept 3. */
export function trueModel(features: number): { coefficients: number[]; intercept: number } {
  return { coefficients: Array.from({ length: features }, (_, j) => ((j + 1) * (j % 2 === 0 ? 1 : -1)) / 2), intercept: 3 };
}

export function datasetPath(spec: DatasetSpec): string {
  const rounding = spec.decimals === undefined ? '' : `_d${spec.decimals}`;
  return join(DATA_DIR, `reg_${spec.rows}x${spec.features}_s${spec.seed}${rounding}.csv`);
}

/** Writes the file unless it already exists; answers its path and size. */
export async function ensureDataset(spec: DatasetSpec): Promise<{ path: string; bytes: number }> {
  const path = datasetPath(spec);
  if (existsSync(path)) return { path, bytes: statSync(path).size };
  await mkdir(dirname(path), { recursive: true });
  const partial = `${path}.partial`;
  const out = createWriteStream(partial);
  const normal = gaussian(random(spec.seed));
  const { coefficients, intercept } = trueModel(spec.features);
  const header = [...Array.from({ length: spec.features }, (_, j) => `x${j}`), 'y'].join(',');
  let batch = `${header}\n`;
  const x = new Float64Array(spec.features);
  const format = spec.decimals === undefined ? String : (value: number) => value.toFixed(spec.decimals);
  for (let row = 0; row < spec.rows; row++) {
    let y = intercept;
    let line = '';
    for (let j = 0; j < spec.features; j++) {
      const text = format(normal());
      x[j] = Number(text);
      y += coefficients[j]! * x[j]!;
      line += `${text},`;
    }
    y += 0.5 * normal();
    batch += `${line}${format(y)}\n`;
    if (batch.length > 1 << 20) {
      if (!out.write(batch)) await once(out, 'drain');
      batch = '';
    }
  }
  out.end(batch);
  await once(out, 'finish');
  await rename(partial, path);
  return { path, bytes: statSync(path).size };
}
