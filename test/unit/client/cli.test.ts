import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  datasetDetails,
  EXIT,
  formatText,
  type Io,
  levelsText,
  modelText,
  parseDecimal,
  parseDelimiter,
  parseFeatures,
  parseMissing,
  parseRows,
  run,
  schemaTable,
  UsageError,
} from '../../../client/cli.js';
import type { ColumnSchema, Dataset, Model } from '../../../client/index.js';

/**
 * The `rj` CLI without a stack (the end-to-end suite runs it as a process against
 * one): the new flags' parsing, the schema and model printing, and what a command
 * line sends, over a scripted `fetch`.
 */

const DATASET_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2E';
const MODEL_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2D';
const JOB_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C';

const column = (changes: Partial<ColumnSchema> & { name: string }): ColumnSchema => ({
  type: 'number',
  missing: 0,
  generated: false,
  levelCount: null,
  levels: null,
  ...changes,
});

const IRIS_SCHEMA: ColumnSchema[] = [
  column({ name: 'Unnamed: 0', type: 'text', generated: true }),
  column({ name: 'Sepal.Length', missing: 3 }),
  column({
    name: 'Species',
    type: 'category',
    levelCount: 3,
    levels: [
      { value: 'setosa', count: 50 },
      { value: 'versicolor', count: 50 },
      { value: 'virginica', count: 50 },
    ],
  }),
];

const dataset = (changes: Partial<Dataset> = {}): Dataset => ({
  datasetId: DATASET_ID,
  name: 'iris.csv',
  status: 'READY',
  sizeBytes: 4000,
  rows: 150,
  columns: IRIS_SCHEMA.map((each) => each.name),
  format: { delimiter: ',', decimal: '.' },
  schema: IRIS_SCHEMA,
  error: null,
  createdAt: '2026-11-30T12:00:00.000Z',
  validatedAt: '2026-11-30T12:00:01.000Z',
  expiresAt: '2026-12-07T12:00:00.000Z',
  ...changes,
});

const model = (changes: Partial<Model> = {}): Model => ({
  modelId: MODEL_ID,
  jobId: JOB_ID,
  status: 'TRAINED',
  kind: 'LINEAR',
  alpha: null,
  fitIntercept: true,
  coefficients: [0.8, 1.4, 1.9],
  intercept: 2.25,
  features: ['Sepal.Width', 'Speciesversicolor', 'Speciesvirginica'],
  columns: ['Sepal.Width', 'Species'],
  levels: { Species: ['setosa', 'versicolor', 'virginica'] },
  rowsDropped: 3,
  summary: null,
  metrics: { n: 147, r2: 0.72, rmse: 0.34 },
  createdAt: '2026-11-30T12:00:00.000Z',
  fittedAt: '2026-11-30T12:00:01.000Z',
  ...changes,
});

const job = {
  jobId: JOB_ID,
  modelId: MODEL_ID,
  status: 'QUEUED',
  kind: 'LINEAR',
  alpha: null,
  fitIntercept: true,
  name: null,
  progress: 0,
  createdAt: '2026-11-30T12:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  error: null,
  attempts: 0,
  datasetId: DATASET_ID,
  alphas: null,
  modelIds: [MODEL_ID],
  version: 1,
};

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rj-unit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  vi.unstubAllGlobals();
});

/** Runs `rj args` against a fake API answering by method and path; records every request. */
async function rj(args: string[], answer: (method: string, pathname: string) => Response = () => json(500, {})) {
  const requests: { method: string; url: string; body: unknown }[] = [];
  vi.stubGlobal('fetch', async (input: Request) => {
    const url = new URL(input.url);
    const text = input.method === 'GET' || url.origin !== 'https://api.example.com' ? '' : await input.text();
    requests.push({ method: input.method, url: `${url.origin}${url.pathname}`, body: text ? JSON.parse(text) : undefined });
    return answer(input.method, `${url.origin}${url.pathname}`);
  });
  let stdout = '';
  let stderr = '';
  const io: Io = {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    isTTY: false,
    env: { RJ_API_URL: 'https://api.example.com/v1/', RJ_API_KEY: 'rj_key' },
    cwd: dir,
  };
  const code = await run(args, io);
  return { code, stdout, stderr, requests };
}

describe('flag parsing', () => {
  it('--delimiter takes , ; | and a tab as tab, \\t (as typed) or the character', () => {
    expect([',', ';', '|', 'tab', 'TAB', '\\t', '\t', 'semicolon'].map(parseDelimiter)).toEqual([',', ';', '|', '\t', '\t', '\t', '\t', ';']);
    expect(() => parseDelimiter(':')).toThrow(UsageError);
    expect(() => parseDelimiter('constructor')).toThrow(UsageError);
    expect(() => parseDelimiter('')).toThrow('--delimiter must be one of , ; | tab, not ""');
  });

  it('--decimal takes . or , only', () => {
    expect(parseDecimal('.')).toBe('.');
    expect(parseDecimal(',')).toBe(',');
    expect(() => parseDecimal(';')).toThrow('--decimal must be . or , not ";"');
  });

  it('--features is a comma-separated list of names, trimmed; --missing is drop or error', () => {
    expect(parseFeatures('Sepal.Width, Species,')).toEqual(['Sepal.Width', 'Species']);
    expect(() => parseFeatures(' , ')).toThrow(UsageError);
    expect(parseMissing('drop')).toBe('drop');
    expect(parseMissing('ERROR')).toBe('error');
    expect(() => parseMissing('omit')).toThrow('--missing must be drop or error, not "omit"');
  });

  it('--rows is inline JSON (an array, or one object) or a JSON file of rows by column name', () => {
    expect(parseRows('[{"Species":"setosa","Sepal.Width":3}]')).toEqual([{ Species: 'setosa', 'Sepal.Width': 3 }]);
    expect(parseRows(' {"Species":"setosa"}')).toEqual([{ Species: 'setosa' }]);
    const file = path.join(dir, 'rows.json');
    writeFileSync(file, '[{"Sepal.Width":2.5,"Species":"virginica"},{"Sepal.Width":3,"Species":"setosa"}]');
    expect(parseRows(file)).toHaveLength(2);
    expect(() => parseRows('[{"Species":')).toThrow('--rows: not JSON');
    expect(() => parseRows('[]')).toThrow('--rows: no rows');
    expect(() => parseRows('[1]')).toThrow('--rows: row 1 is not an object of column: value');
    expect(() => parseRows('[{"a":1},{"a":true}]')).toThrow('--rows: row 2, "a" must be a number or a string, not true');
    expect(() => parseRows(path.join(dir, 'none.json'))).toThrow(/^no such file: /);
  });
});

describe('printing', () => {
  it('prints the schema as an aligned table: name, type, missing, levels', () => {
    expect(schemaTable(IRIS_SCHEMA)).toBe(
      [
        '  name          type      missing  levels',
        '  Unnamed: 0    text            0',
        '  Sepal.Length  number          3',
        '  Species       category        0  setosa, versicolor, virginica',
      ].join('\n'),
    );
    expect(schemaTable(null)).toBe('');
  });

  it('shows the first few levels, then how many there are', () => {
    const levels = Array.from({ length: 20 }, (_, i) => ({ value: `L${String(i).padStart(2, '0')}`, count: 1 }));
    expect(levelsText({ levels, levelCount: 37 })).toBe('L00, L01, L02, L03, L04, … (37 levels)');
    expect(levelsText({ levels: levels.slice(0, 2), levelCount: 2 })).toBe('L00, L01');
    expect(levelsText({ levels: null, levelCount: null })).toBe('');
  });

  it('escapes control characters and shows an empty level, so a CSV cannot write to the terminal', () => {
    const table = schemaTable([
      column({
        name: 'bad\u001b[31m',
        type: 'category',
        levelCount: 2,
        levels: [
          { value: '', count: 1 },
          { value: 'x', count: 2 },
        ],
      }),
    ]);
    expect(table).not.toContain('\u001b');
    expect(table).toContain('"bad\\u001b[31m"');
    expect(table).toContain('"", x');
  });

  it('shows the format only when it is not the default, a tab as tab', () => {
    expect(formatText(dataset())).toBeUndefined();
    expect(formatText(dataset({ format: { delimiter: '\t', decimal: ',' } }))).toBe('format: delimiter tab  decimal ,');
    expect(formatText(dataset({ format: { delimiter: ';', decimal: '.' } }))).toBe('format: delimiter ;  decimal .');
  });

  it("prints a dataset's line, its format and its schema; nothing but the line before READY", () => {
    expect(datasetDetails(dataset({ format: { delimiter: ';', decimal: ',' } })).split('\n')).toEqual([
      `${DATASET_ID}  READY  150 rows  columns: Unnamed: 0, Sepal.Length, Species`,
      'format: delimiter ;  decimal ,',
      '  name          type      missing  levels',
      '  Unnamed: 0    text            0',
      '  Sepal.Length  number          3',
      '  Species       category        0  setosa, versicolor, virginica',
    ]);
    expect(datasetDetails(dataset({ status: 'VALIDATING', rows: null, columns: [], schema: null }))).toBe(`${DATASET_ID}  VALIDATING`);
  });

  it('prints a model: each coefficient by name with its value, rows dropped, columns read and levels', () => {
    expect(modelText(model()).split('\n')).toEqual([
      `model ${MODEL_ID}  TRAINED  LINEAR`,
      '  intercept          2.25',
      '  Sepal.Width        0.8',
      '  Speciesversicolor  1.4',
      '  Speciesvirginica   1.9',
      '  n=147  r2=0.72  rmse=0.34',
      '  rows dropped: 3',
      '  columns: Sepal.Width, Species',
      '  levels of Species: setosa (reference), versicolor, virginica',
    ]);
    // A model of numbers only: no columns line (they are the coefficients' names) and no levels.
    const numbers = modelText(model({ features: ['size', 'rooms'], columns: ['size', 'rooms'], coefficients: [2, 3], levels: {}, rowsDropped: 0 }));
    expect(numbers).toContain('  rows dropped: 0');
    expect(numbers).not.toContain('columns:');
    expect(numbers).not.toContain('levels of');
  });
});

describe('rj over a scripted API', () => {
  it('datasets get prints the schema table (and --json the dataset as it came)', async () => {
    const answer = () => json(200, dataset({ format: { delimiter: '\t', decimal: '.' } }));
    const text = await rj(['datasets', 'get', DATASET_ID], answer);
    expect(text.code, text.stderr).toBe(EXIT.ok);
    expect(text.stdout).toContain('format: delimiter tab  decimal .\n  name          type      missing  levels\n');
    expect(text.stdout).toContain('  Species       category        0  setosa, versicolor, virginica\n');
    const machine = await rj(['datasets', 'get', DATASET_ID, '--json'], answer);
    expect(JSON.parse(machine.stdout)).toMatchObject({ format: { delimiter: '\t' }, schema: IRIS_SCHEMA });
  });

  it('datasets upload --delimiter tab --decimal , sends the format with the new dataset', async () => {
    const file = path.join(dir, 'iris.tsv');
    writeFileSync(file, 'a\tb\n1,5\t2\n');
    const run = await rj(['datasets', 'upload', file, '--delimiter', 'tab', '--decimal', ',', '--json'], (method, url) => {
      if (method === 'POST' && url === 'https://api.example.com/v1/datasets') {
        return json(201, {
          ...dataset({ status: 'PENDING_UPLOAD', rows: null, columns: [], schema: null }),
          uploadMethod: 'POST',
          uploadUrl: 'https://s3.example.com/b',
          fields: { key: 'k' },
          uploadExpiresAt: '2026-11-30T12:15:00.000Z',
          maxBytes: 1000,
        });
      }
      if (method === 'POST') return new Response(null, { status: 204 });
      return json(200, dataset({ format: { delimiter: '\t', decimal: ',' } }));
    });
    expect(run.code, run.stderr).toBe(EXIT.ok);
    expect(run.requests[0]).toEqual({
      method: 'POST',
      url: 'https://api.example.com/v1/datasets',
      body: { name: 'iris.tsv', sizeBytes: 10, delimiter: '\t', decimal: ',' },
    });
  });

  it('jobs create --dataset … --features a,b --missing error sends them', async () => {
    const run = await rj(
      ['jobs', 'create', '--kind', 'linear', '--dataset', DATASET_ID, '--target', 'Sepal.Length', '--features', 'Sepal.Width,Species', '--missing', 'error'],
      () => json(202, job),
    );
    expect(run.code, run.stderr).toBe(EXIT.ok);
    expect(run.requests.map((request) => request.body)).toEqual([
      { kind: 'LINEAR', datasetId: DATASET_ID, target: 'Sepal.Length', features: ['Sepal.Width', 'Species'], missing: 'error' },
    ]);
  });

  it('jobs create without the new flags sends what it did before', async () => {
    const run = await rj(['jobs', 'create', '--kind', 'RIDGE', '--alpha', '0.5', '--dataset', DATASET_ID, '--target', 'y'], () => json(202, job));
    expect(run.requests.map((request) => request.body)).toEqual([{ kind: 'RIDGE', alpha: 0.5, datasetId: DATASET_ID, target: 'y' }]);
  });

  it.each([
    ['a bad --missing', ['--dataset', DATASET_ID, '--target', 'y', '--missing', 'omit'], /^rj: --missing must be drop or error, not "omit"/],
    ['a bad --delimiter', ['--csv', 'x.csv', '--target', 'y', '--delimiter', ':'], /^rj: --delimiter must be one of/],
    ['a bad --decimal', ['--csv', 'x.csv', '--target', 'y', '--decimal', ';'], /^rj: --decimal must be \. or ,/],
    ['--delimiter without --csv', ['--dataset', DATASET_ID, '--target', 'y', '--delimiter', ';'], /^rj: --delimiter and --decimal describe the file of --csv/],
    ['--features with --data', ['--data', 'points.json', '--features', 'a'], /^rj: --features and --missing go with --csv or --dataset/],
  ])('jobs create with %s is a usage error (exit 2), nothing sent', async (_, flags, message) => {
    const run = await rj(['jobs', 'create', '--kind', 'LINEAR', ...flags]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(message);
    expect(run.requests).toEqual([]);
  });

  it('datasets upload with a bad --delimiter is a usage error before anything is sent', async () => {
    const file = path.join(dir, 'd.csv');
    writeFileSync(file, 'a,b\n1,2\n');
    const run = await rj(['datasets', 'upload', file, '--delimiter', 'space']);
    expect(run.code).toBe(EXIT.usage);
    expect(run.requests).toEqual([]);
  });

  it('predict --rows sends the rows and prints one prediction per row; it is one of --x, --csv, --rows', async () => {
    const run = await rj(['predict', MODEL_ID, '--rows', '[{"Species":"setosa","Sepal.Width":3},{"Species":"virginica","Sepal.Width":2.5}]'], () =>
      json(200, { modelId: MODEL_ID, predictions: [4.65, 6.7], timestamp: '2026-11-30T12:00:02.000Z' }),
    );
    expect(run.code, run.stderr).toBe(EXIT.ok);
    expect(run.stdout).toBe('4.65\n6.7\n');
    expect(run.requests).toEqual([
      {
        method: 'POST',
        url: `https://api.example.com/v1/models/${MODEL_ID}/predict`,
        body: {
          rows: [
            { Species: 'setosa', 'Sepal.Width': 3 },
            { Species: 'virginica', 'Sepal.Width': 2.5 },
          ],
        },
      },
    ]);
    const both = await rj(['predict', MODEL_ID, '--rows', '{"a":1}', '--x', '1']);
    expect(both.code).toBe(EXIT.usage);
    expect(both.stderr).toMatch(/^rj: give exactly one of --x 1,2.5, --csv INPUTS.csv or --rows JSON/);
  });

  it('models get prints coefficient names with values, rows dropped and levels', async () => {
    const run = await rj(['models', 'get', MODEL_ID], () => json(200, model()));
    expect(run.code, run.stderr).toBe(EXIT.ok);
    expect(run.stdout).toContain('  Speciesversicolor  1.4\n');
    expect(run.stdout).toContain('  rows dropped: 3\n');
    expect(run.stdout).toContain('  levels of Species: setosa (reference), versicolor, virginica\n');
  });

  it('documents the new flags in the usage text', async () => {
    const help = await rj(['--help']);
    expect(help.code).toBe(EXIT.ok);
    for (const flag of ['--delimiter', '--decimal', '--features', '--missing', '--rows']) expect(help.stdout).toContain(flag);
    expect(help.stdout).toContain('or tab (also \\t)');
  });
});
