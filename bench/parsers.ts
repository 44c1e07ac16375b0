/**
 * Which CSV parser should training use? Streams one file through each candidate and
 * prints MB/s and rows/s. Every parser is fed the same 64 KiB chunks, as an S3
 * GetObject body delivers them, and must produce the same sum of all values.
 *
 *   npm install --prefix /tmp/csvbench --ignore-scripts udsv papaparse csv-parse
 *   PARSERS_DIR=/tmp/csvbench npx tsx bench/parsers.ts [file.csv]
 *
 * The candidates are not project dependencies: they are loaded from PARSERS_DIR
 * when it is set (and skipped otherwise), so only the winner would ever be installed.
 */
import { createReadStream, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { NumericCsvReader } from '#domain/csv.js';
import { ensureDataset } from './dataset.js';

const CHUNK = 64 * 1024;

interface Outcome {
  rows: number;
  sum: number;
}

type Candidate = (path: string) => Promise<Outcome>;

async function readOnly(path: string): Promise<Outcome> {
  let sum = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) sum += (chunk as Buffer).length;
  return { rows: 0, sum };
}

async function handWritten(path: string): Promise<Outcome> {
  let sum = 0;
  const reader = new NumericCsvReader(
    {
      header: () => undefined,
      row: (values) => {
        for (let j = 0; j < values.length; j++) sum += values[j]!;
      },
    },
    { maxColumns: 1000 },
  );
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) reader.push(chunk as Buffer);
  return { rows: reader.end().rows, sum };
}

/* The libraries' own types are not installed; each is used through the few calls below. */
interface UdsvParser {
  chunk(text: string, into: unknown, each: (row: number[]) => void): void;
  end(): void;
  typedArrs: unknown;
}
interface Udsv {
  inferSchema(text: string): unknown;
  initParser(schema: unknown): UdsvParser;
}
interface Papa {
  NODE_STREAM_INPUT: unknown;
  parse(input: unknown, config: object): NodeJS.ReadWriteStream;
}
interface CsvParse {
  parse(options: object): NodeJS.ReadWriteStream;
}

function libraries(dir: string): Record<string, Candidate> {
  const load = createRequire(join(dir, 'package.json'));
  const udsv = load('udsv') as Udsv;
  const papa = load('papaparse') as Papa;
  const csvParse = load('csv-parse') as CsvParse;
  return {
    async udsv(path) {
      let sum = 0;
      let rows = 0;
      let parser: UdsvParser | undefined;
      const each = (row: number[]) => {
        rows++;
        for (let j = 0; j < row.length; j++) sum += row[j]!;
      };
      for await (const chunk of createReadStream(path, { highWaterMark: CHUNK, encoding: 'utf8' })) {
        parser ??= udsv.initParser(udsv.inferSchema(chunk as string));
        parser.chunk(chunk as string, parser.typedArrs, each);
      }
      parser?.end();
      return { rows, sum };
    },
    async papaparse(path) {
      let sum = 0;
      let rows = -1; // the header
      const stream = createReadStream(path, { highWaterMark: CHUNK }).pipe(papa.parse(papa.NODE_STREAM_INPUT, { header: false, skipEmptyLines: true }));
      for await (const row of stream) {
        if (rows++ < 0) continue;
        for (const value of row as unknown as string[]) sum += Number(value);
      }
      return { rows, sum };
    },
    async 'csv-parse'(path) {
      let sum = 0;
      let rows = 0;
      const stream = createReadStream(path, { highWaterMark: CHUNK }).pipe(csvParse.parse({ from_line: 2, skip_empty_lines: true }));
      for await (const row of stream) {
        rows++;
        for (const value of row as unknown as string[]) sum += Number(value);
      }
      return { rows, sum };
    },
  };
}

async function main(): Promise<void> {
  const path = process.argv[2] ?? (await ensureDataset({ rows: 1_000_000, features: 10, seed: 42 })).path;
  const megabytes = statSync(path).size / 1e6;
  const candidates: Record<string, Candidate> = {
    'read only (fs stream)': readOnly,
    'hand-written (src/domain/csv.ts)': handWritten,
    ...(process.env.PARSERS_DIR ? libraries(process.env.PARSERS_DIR) : {}),
  };
  console.log(`file ${path}: ${megabytes.toFixed(1)} MB, chunks of ${CHUNK / 1024} KiB, node ${process.version}`);
  let reference: number | undefined;
  for (const [name, run] of Object.entries(candidates)) {
    let best = Infinity;
    let outcome: Outcome = { rows: 0, sum: 0 };
    for (let attempt = 0; attempt < 2; attempt++) {
      const started = process.hrtime.bigint();
      outcome = await run(path);
      best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e9);
    }
    if (outcome.rows > 0) {
      reference ??= outcome.sum;
      const agrees = Math.abs(outcome.sum - reference) <= 1e-9 * Math.abs(reference) ? 'same sum' : `SUM DIFFERS: ${outcome.sum} vs ${reference}`;
      console.log(
        `${name.padEnd(34)} ${best.toFixed(2)} s  ${(megabytes / best).toFixed(0).padStart(4)} MB/s  ${(outcome.rows / best / 1e6).toFixed(2)} M rows/s  ${agrees}`,
      );
    } else {
      console.log(`${name.padEnd(34)} ${best.toFixed(2)} s  ${(megabytes / best).toFixed(0).padStart(4)} MB/s`);
    }
  }
}

await main();
