import {
  ApiError,
  type CreateJobRequest,
  type CsvFormat,
  type Dataset,
  type Job,
  type JobStatus,
  type Model,
  newerJob,
  type PredictRequest,
  RegressionJobsClient,
  TERMINAL_STATUSES,
} from '../../client/index.js';
import { coefficientChart, format } from './chart.js';
import { append, field, formatTime, h, percent } from './dom.js';
import { LiveJobs, type LiveState } from './live.js';
import { coefficientTable, DECIMAL_CHOICES, DELIMITER_CHOICES, featureChoices, formatDescription, modelLevels, schemaTable, targetColumns } from './schema.js';
import { formatBytes, uploadWithProgress } from './upload.js';

/**
 * The console: a single page on the typed client (client/). Routes live in the
 * URL's hash (#/jobs, #/jobs/<id>, #/models/<id>, #/datasets); the API key lives
 * only in sessionStorage (gone when the tab closes) and is sent as the bearer
 * token and the WebSocket's ?token=, never put in a URL of this page or logged.
 */

/** Written beside the page: by the offline stack's console server, or by the stack's deployment (lib/console.ts). */
interface ConsoleConfig {
  apiUrl: string;
  webSocketUrl: string | null;
  /** The largest CSV the API accepts (LIMIT_MAX_DATASET_BYTES): bigger files are refused before any byte is sent. */
  maxDatasetBytes: number;
}

const KEY_STORAGE = 'regression-jobs.apiKey';
const STATUSES: JobStatus[] = ['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'];
const PAGE_SIZE = 20;

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const liveStatus = document.getElementById('live') as HTMLElement;
const toast = document.getElementById('toast') as HTMLElement;

let config: ConsoleConfig;
let api: RegressionJobsClient | undefined;
let live: LiveJobs | undefined;
/** Each render gets a number; an answer that arrives after the user moved on is dropped. */
let renderCount = 0;
/** The page's listener for live job changes, if it shows jobs. */
let onLiveJob: ((job: Job) => void) | undefined;
let onResync: (() => void) | undefined;

/** Every failure as one line: the API's status, code and message as it answered them. */
function describe(error: unknown): string {
  if (error instanceof ApiError) return error.status === 0 ? error.message : `${error.status} ${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function errorLine(error: unknown): HTMLParagraphElement {
  return h('p', { class: 'error', role: 'alert' }, describe(error));
}

window.addEventListener('unhandledrejection', (event) => {
  toast.textContent = describe(event.reason);
});

async function start(): Promise<void> {
  try {
    const response = await fetch('config.json', { cache: 'no-store' });
    if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
    config = (await response.json()) as ConsoleConfig;
  } catch (error) {
    main.replaceChildren(h('h2', {}, 'The console cannot start'), errorLine(error));
    return;
  }
  document.getElementById('sign-out')?.addEventListener('click', signOut);
  window.addEventListener('hashchange', () => void render());
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) connect(key);
  await render();
}

function connect(apiKey: string): void {
  api = new RegressionJobsClient({ baseUrl: config.apiUrl, apiKey, webSocketUrl: config.webSocketUrl ?? undefined });
  nav.hidden = false;
  if (config.webSocketUrl) {
    live = new LiveJobs(config.webSocketUrl, apiKey, {
      onJob: (job) => onLiveJob?.(job),
      onState: showLiveState,
      onResync: () => onResync?.(),
    });
    live.start();
  }
}

function showLiveState(state: LiveState): void {
  const text = { connecting: 'connecting…', live: '● live', reconnecting: 'reconnecting…', closed: '' }[state];
  liveStatus.textContent = text;
  liveStatus.dataset.state = state;
}

function signOut(): void {
  sessionStorage.removeItem(KEY_STORAGE);
  live?.stop();
  live = undefined;
  api = undefined;
  nav.hidden = true;
  location.hash = '#/';
  void render();
}

async function render(): Promise<void> {
  const render = ++renderCount;
  const current = () => render === renderCount;
  onLiveJob = undefined;
  onResync = undefined;
  toast.textContent = '';
  const route = location.hash.replace(/^#\/?/, '').split('/');
  if (!api) return signInPage();
  const [section, id] = route;
  const page = h('div');
  main.replaceChildren(page);
  if (section === 'jobs' && id) await jobPage(page, decodeURIComponent(id), api, current);
  else if (section === 'models' && id) await modelPage(page, decodeURIComponent(id), api, current);
  else if (section === 'datasets') datasetsPage(page, api);
  else await jobsPage(page, api, current);
  // Moving focus to the new page tells screen readers the page changed.
  if (current()) main.focus();
}

// ---------------------------------------------------------------------------
// Sign in

function signInPage(): void {
  nav.hidden = true;
  const key = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, id: 'api-key' });
  const message = h('div');
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    {
      onsubmit: async (event: Event) => {
        event.preventDefault();
        button.disabled = true;
        message.replaceChildren();
        const candidate = new RegressionJobsClient({ baseUrl: config.apiUrl, apiKey: key.value.trim() });
        try {
          // Any authenticated call proves the key: the smallest is one job.
          await candidate.listJobs({ limit: 1 });
          sessionStorage.setItem(KEY_STORAGE, key.value.trim());
          connect(key.value.trim());
          if (!location.hash || location.hash === '#/') location.hash = '#/jobs';
          else await render();
        } catch (error) {
          message.replaceChildren(errorLine(error));
          button.disabled = false;
        }
      },
    },
    h('h2', {}, 'Sign in'),
    field('API key', key, 'Kept in this tab only (sessionStorage) until you sign out or close it.'),
    h('p', {}, button),
    message,
  );
  main.replaceChildren(form);
  key.focus();
}

// ---------------------------------------------------------------------------
// Jobs

function progressBar(job: Job): HTMLElement {
  return h(
    'span',
    { class: 'progress' },
    h('progress', { max: 1, value: job.progress, 'aria-label': `progress of job ${job.jobId}` }),
    h('span', { class: 'muted' }, ` ${percent(job.progress)}`),
  );
}

function statusText(job: Job): HTMLElement {
  const tone = job.status === 'COMPLETED' ? 'ok' : job.status === 'FAILED' ? 'error' : '';
  return h('span', { class: tone, 'data-status': job.status }, job.status);
}

async function jobsPage(page: HTMLElement, client: RegressionJobsClient, current: () => boolean): Promise<void> {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const status = STATUSES.find((each) => each === params.get('status'));
  const filter = h(
    'select',
    {
      id: 'status-filter',
      onchange: () => {
        location.hash = filter.value ? `#/jobs?status=${filter.value}` : '#/jobs';
      },
    },
    h('option', { value: '' }, 'all'),
    STATUSES.map((each) => h('option', { value: each, selected: each === status }, each)),
  );
  const body = h('tbody');
  const message = h('div');
  const pager = h('div', { class: 'pager' });
  append(page, [
    h('h2', {}, 'Jobs'),
    h('div', { class: 'row' }, field('Status', filter)),
    message,
    h(
      'table',
      { class: 'jobs' },
      h('caption', { class: 'muted' }, 'Updated live while the connection is up.'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Job', 'Status', 'Kind', 'Progress', 'Created'].map((name) => h('th', { scope: 'col' }, name)),
        ),
      ),
      body,
    ),
    pager,
  ]);

  const rows = new Map<string, { job: Job; row: HTMLTableRowElement }>();
  const rowOf = (job: Job) =>
    h(
      'tr',
      { 'data-job': job.jobId },
      h('td', {}, h('a', { href: `#/jobs/${job.jobId}`, class: 'id' }, job.name ?? job.jobId)),
      h('td', {}, statusText(job)),
      h('td', {}, job.kind),
      h('td', {}, progressBar(job)),
      h('td', {}, formatTime(job.createdAt)),
    );
  // Tokens of the pages before this one, so "Previous" can go back.
  const tokens: (string | undefined)[] = [];
  let token: string | undefined;
  const load = async () => {
    try {
      const result = await client.listJobs({ status, limit: PAGE_SIZE, nextToken: token });
      if (!current()) return;
      message.replaceChildren();
      rows.clear();
      body.replaceChildren(
        ...result.items.map((job) => {
          const row = rowOf(job);
          rows.set(job.jobId, { job, row });
          return row;
        }),
      );
      if (result.items.length === 0) body.replaceChildren(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No jobs.')));
      const previous = h('button', { type: 'button', class: 'secondary', disabled: tokens.length === 0 }, 'Previous');
      const next = h('button', { type: 'button', class: 'secondary', disabled: !result.nextToken }, 'Next');
      previous.addEventListener('click', () => {
        token = tokens.pop();
        void load();
      });
      next.addEventListener('click', () => {
        tokens.push(token);
        token = result.nextToken ?? undefined;
        void load();
      });
      pager.replaceChildren(previous, next, h('span', { class: 'muted' }, `page ${tokens.length + 1}`));
    } catch (error) {
      if (current()) message.replaceChildren(errorLine(error));
    }
  };
  onLiveJob = (job) => {
    const shown = rows.get(job.jobId);
    if (shown) {
      if (!newerJob(shown.job, job)) return;
      const row = rowOf(job);
      shown.row.replaceWith(row);
      rows.set(job.jobId, { job, row });
    } else if (tokens.length === 0 && (!status || job.status === status)) {
      // A job this page has not shown: new ones are the newest, so they go on top of the first page.
      const row = rowOf(job);
      rows.set(job.jobId, { job, row });
      if (body.querySelector('td[colspan]')) body.replaceChildren();
      body.prepend(row);
    }
  };
  onResync = () => void load();
  await load();
}

async function jobPage(page: HTMLElement, jobId: string, client: RegressionJobsClient, current: () => boolean): Promise<void> {
  append(page, h('h2', {}, 'Job ', h('span', { class: 'id' }, jobId)));
  let job: Job;
  try {
    job = await client.getJob(jobId);
  } catch (error) {
    if (current()) append(page, errorLine(error), h('p', {}, h('a', { href: '#/jobs' }, 'All jobs')));
    return;
  }
  if (!current()) return;
  const facts = h('dl', { class: 'facts' });
  const actions = h('div');
  const message = h('div');
  const timeline = h('ol', { class: 'timeline', 'aria-label': 'History' });
  append(page, [facts, actions, message, h('h3', {}, 'History'), timeline]);
  const show = () => {
    facts.replaceChildren(
      ...[
        ['Status', statusText(job)],
        ['Progress', progressBar(job)],
        ['Kind', `${job.kind}${job.alpha === null ? '' : ` (alpha ${job.alpha})`}`],
        ['Attempts', String(job.attempts)],
        ['Error', job.error ? h('span', { class: 'error' }, `${job.error.code}: ${job.error.message}`) : '—'],
        [
          job.modelIds.length > 1 ? 'Models' : 'Model',
          h(
            'span',
            {},
            job.modelIds.flatMap((modelId, i) => [
              ...(i === 0 ? [] : [' ']),
              h('a', { href: `#/models/${modelId}`, class: 'id' }, job.alphas === null ? modelId : `alpha ${job.alphas[i]}`),
            ]),
          ),
        ],
        ['Dataset', job.datasetId ?? 'inline data'],
        ['Created', formatTime(job.createdAt)],
        ['Started', formatTime(job.startedAt)],
        ['Finished', formatTime(job.finishedAt)],
      ].flatMap(([name, value]) => [h('dt', {}, name as string), h('dd', {}, value as Node | string)]),
    );
    actions.replaceChildren();
    if (!TERMINAL_STATUSES.includes(job.status)) {
      const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel job');
      cancel.addEventListener('click', async () => {
        cancel.disabled = true;
        try {
          update(await client.cancelJob(jobId));
        } catch (error) {
          message.replaceChildren(errorLine(error));
          cancel.disabled = false;
        }
      });
      actions.append(cancel);
    }
  };
  // The history is recorded from the jobs stream, a moment after each change: until it has caught up with the job, look again.
  let historyTimer: ReturnType<typeof setTimeout> | undefined;
  const loadHistory = async (retries = 20) => {
    clearTimeout(historyTimer);
    try {
      const events = await client.jobEvents(jobId);
      if (!current()) return;
      if (events.at(-1)?.to !== job.status && retries > 0) historyTimer = setTimeout(() => void loadHistory(retries - 1), 500);
      timeline.replaceChildren(
        ...events.map((event) =>
          h(
            'li',
            {},
            h('strong', {}, event.type === 'RETRIED' ? `retried (attempt ${event.attempt})` : event.from ? `${event.from} → ${event.to}` : event.to),
            ' ',
            h('time', { datetime: event.at, class: 'muted' }, formatTime(event.at)),
            event.error ? h('div', { class: 'error' }, `${event.error.code}: ${event.error.message}`) : null,
          ),
        ),
      );
      if (events.length === 0) timeline.replaceChildren(h('li', { class: 'muted' }, 'No history yet.'));
    } catch (error) {
      if (current()) timeline.replaceChildren(h('li', {}, errorLine(error)));
    }
  };
  const update = (next: Job) => {
    if (!newerJob(job, next)) return;
    const statusChanged = next.status !== job.status;
    job = next;
    show();
    if (statusChanged) void loadHistory();
  };
  onLiveJob = (next) => {
    if (next.jobId === jobId) update(next);
  };
  onResync = async () => update(await client.getJob(jobId));
  show();
  await loadHistory();
}

// ---------------------------------------------------------------------------
// Models

async function modelPage(page: HTMLElement, modelId: string, client: RegressionJobsClient, current: () => boolean): Promise<void> {
  append(page, h('h2', {}, 'Model ', h('span', { class: 'id' }, modelId)));
  let model: Model;
  try {
    model = await client.getModel(modelId);
  } catch (error) {
    if (current()) append(page, errorLine(error));
    return;
  }
  if (!current()) return;
  const names = model.coefficients.map((_, i) => model.features[i] ?? `x${i + 1}`);
  append(
    page,
    h(
      'dl',
      { class: 'facts' },
      [
        ['Status', model.status],
        ['Kind', `${model.kind}${model.alpha === null ? '' : ` (alpha ${model.alpha})`}`],
        ['Intercept', model.intercept === null ? '—' : format(model.intercept)],
        ['Rows (n)', model.metrics ? String(model.metrics.n) : '—'],
        ['R²', model.metrics ? format(model.metrics.r2) : '—'],
        ['RMSE', model.metrics ? format(model.metrics.rmse) : '—'],
        ['Rows dropped', model.rowsDropped === null || model.rowsDropped === undefined ? '—' : String(model.rowsDropped)],
        ['Columns', model.columns?.length ? model.columns.join(', ') : '—'],
        ['Levels', modelLevels(model.levels)],
        ['Job', h('a', { href: `#/jobs/${model.jobId}`, class: 'id' }, model.jobId)],
      ].flatMap(([name, value]) => [h('dt', {}, name as string), h('dd', {}, value as Node | string)]),
    ),
  );
  if (model.status !== 'TRAINED') {
    append(page, h('p', { class: 'muted' }, `The model is ${model.status}: coefficients and predictions come once it is TRAINED.`));
    return;
  }
  append(
    page,
    h('h3', {}, 'Coefficients'),
    coefficientChart(names, model.coefficients),
    h('p', { class: 'muted' }, 'Blue: positive, red: negative.'),
    coefficientTable({ features: names, coefficients: model.coefficients, intercept: model.intercept }),
  );

  // A model with category columns is asked by rows (a level for each category); one with numbers only, by coefficient.
  const levels = model.levels ?? {};
  const byRows = Object.keys(levels).length > 0;
  const columns = byRows ? model.columns : names;
  const inputs = columns.map((name, i) => {
    const choices = Object.hasOwn(levels, name) ? levels[name] : undefined;
    return choices
      ? h(
          'select',
          { required: true, id: `row-${i}` },
          choices.map((level) => h('option', { value: level }, level)),
        )
      : h('input', { type: 'number', step: 'any', required: true, id: byRows ? `row-${i}` : `x-${name}`, inputmode: 'decimal' });
  });
  const batch = h('textarea', { rows: 4, cols: 30, id: 'batch', placeholder: names.join(',') });
  const result = h('div', { 'aria-live': 'polite', id: 'prediction' });
  const predict = async (event: Event, request: () => PredictRequest) => {
    event.preventDefault();
    result.replaceChildren();
    try {
      const answer = await client.predict(modelId, request());
      result.replaceChildren(
        answer.predictions.length === 1
          ? h('p', {}, 'Prediction: ', h('strong', { class: 'value' }, format(answer.predictions[0] as number)))
          : h(
              'table',
              {},
              h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '#'), h('th', { scope: 'col' }, 'Prediction'))),
              h(
                'tbody',
                {},
                answer.predictions.map((value, i) => h('tr', {}, h('td', {}, String(i + 1)), h('td', { class: 'value' }, format(value)))),
              ),
            ),
      );
    } catch (error) {
      result.replaceChildren(errorLine(error));
    }
  };
  append(
    page,
    h('h3', {}, 'Predict'),
    h(
      'form',
      {
        onsubmit: (event: Event) =>
          predict(event, () =>
            byRows
              ? { rows: [Object.fromEntries(inputs.map((input, i) => [columns[i] as string, input.tagName === 'SELECT' ? input.value : Number(input.value)]))] }
              : { x: inputs.map((input) => Number(input.value)) },
          ),
      },
      h(
        'div',
        { class: 'row' },
        inputs.map((input, i) => field(columns[i] as string, input)),
      ),
      h('p', {}, h('button', { type: 'submit' }, 'Predict')),
    ),
    h(
      'form',
      {
        onsubmit: (event: Event) =>
          predict(event, () => ({
            // Numbers are sent as typed: a bad one comes back as the API's VALIDATION_ERROR with its place.
            inputs: batch.value
              .split(/\r?\n/)
              .filter((line) => line.trim() !== '')
              .map((line) => line.split(/[,;\t]/).map((cell) => (cell.trim() === '' ? Number.NaN : Number(cell)))),
          })),
      },
      field('Batch: one input per line, values separated by commas', batch, byRows ? `one value per coefficient: ${names.join(', ')}` : undefined),
      h('p', {}, h('button', { type: 'submit' }, 'Predict batch')),
    ),
    result,
  );
}

// ---------------------------------------------------------------------------
// Datasets

function datasetsPage(page: HTMLElement, client: RegressionJobsClient): void {
  const file = h('input', { type: 'file', accept: '.csv,.tsv,.txt,.gz,text/csv', id: 'csv-file' });
  const name = h('input', { type: 'text', id: 'dataset-name', autocomplete: 'off' });
  const delimiter = h(
    'select',
    { id: 'delimiter' },
    DELIMITER_CHOICES.map((choice, i) => h('option', { value: choice.value, selected: i === 0 }, choice.label)),
  );
  const decimal = h(
    'select',
    { id: 'decimal' },
    DECIMAL_CHOICES.map((choice, i) => h('option', { value: choice.value, selected: i === 0 }, choice.label)),
  );
  const zone = h(
    'div',
    { class: 'drop' },
    h('p', {}, 'Drop a CSV file here, or choose one.'),
    field('CSV file', file, `At most ${formatBytes(config.maxDatasetBytes)}. The first line names the columns; gzip (.csv.gz) is read as well.`),
  );
  const status = h('div', { 'aria-live': 'polite', id: 'upload-status' });
  const train = h('div');
  append(
    page,
    h('h2', {}, 'Datasets'),
    h('div', { class: 'row' }, field('Name (optional)', name), field('Delimiter', delimiter), field('Decimal separator', decimal)),
    zone,
    status,
    train,
  );

  const send = async (chosen: File) => {
    train.replaceChildren();
    if (chosen.size > config.maxDatasetBytes) {
      status.replaceChildren(
        h(
          'p',
          { class: 'error', role: 'alert' },
          `${chosen.name} is ${formatBytes(chosen.size)}: the limit is ${formatBytes(config.maxDatasetBytes)}. Nothing was uploaded.`,
        ),
      );
      return;
    }
    const bar = h('progress', { max: chosen.size || 1, value: 0, 'aria-label': 'upload progress' });
    const sent = h('span', { class: 'muted' });
    status.replaceChildren(h('p', {}, `Uploading ${chosen.name}… `, sent), bar);
    try {
      const upload = await client.createDataset({
        ...(name.value.trim() ? { name: name.value.trim() } : {}),
        sizeBytes: chosen.size,
        delimiter: delimiter.value as CsvFormat['delimiter'],
        decimal: decimal.value as CsvFormat['decimal'],
      });
      await uploadWithProgress(client, upload, chosen, (done, total) => {
        bar.max = total || 1;
        bar.value = done;
        sent.textContent = `${formatBytes(done)} of ${formatBytes(total)}`;
      });
      status.replaceChildren(h('p', {}, `Uploaded ${chosen.name}; checking it…`));
      const deadline = Date.now() + 120_000;
      let dataset = await client.getDataset(upload.datasetId);
      while (dataset.status !== 'READY' && dataset.status !== 'INVALID') {
        if (Date.now() > deadline) throw new Error(`the dataset is still ${dataset.status} after 2 minutes: look again later (id ${dataset.datasetId})`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        dataset = await client.getDataset(upload.datasetId);
      }
      showDataset(dataset);
    } catch (error) {
      status.replaceChildren(errorLine(error));
    }
  };

  const showDataset = (dataset: Dataset) => {
    if (dataset.status === 'INVALID') {
      const where = [
        dataset.error?.line === undefined ? '' : `line ${dataset.error.line}`,
        dataset.error?.column === undefined ? '' : `column ${dataset.error.column}`,
      ]
        .filter(Boolean)
        .join(', ');
      status.replaceChildren(
        h(
          'p',
          { class: 'error', role: 'alert', 'data-status': 'INVALID' },
          `INVALID${where ? ` at ${where}` : ''}: ${dataset.error?.code}: ${dataset.error?.message}`,
        ),
      );
      return;
    }
    const csv = formatDescription(dataset.format);
    status.replaceChildren();
    append(
      status,
      h('p', { class: 'ok', 'data-status': 'READY' }, `READY: ${dataset.rows} rows`),
      h('p', {}, 'Columns: ', dataset.columns.join(', ')),
      csv ? h('p', { class: 'muted' }, `Format: ${csv}`) : null,
      dataset.schema ? schemaTable(dataset.schema) : null,
      h('p', { class: 'muted' }, 'Dataset ', h('span', { class: 'id' }, dataset.datasetId)),
    );
    train.replaceChildren(trainForm(dataset, client));
  };

  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    if (chosen) void send(chosen);
  });
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    const dropped = event.dataTransfer?.files[0];
    if (dropped) void send(dropped);
  });
}

function trainForm(dataset: Dataset, client: RegressionJobsClient): HTMLFormElement {
  const kind = h(
    'select',
    { id: 'kind' },
    ['LINEAR', 'RIDGE', 'LASSO'].map((each) => h('option', { value: each }, each)),
  );
  const alpha = h('input', { type: 'number', step: 'any', min: 0, id: 'alpha', inputmode: 'decimal' });
  const alphas = h('input', { type: 'text', id: 'alphas', placeholder: '0.01, 0.1, 1' });
  // The target is a number column (the last one by default); features are the other number and category columns.
  const targets = targetColumns(dataset);
  const target = h(
    'select',
    { id: 'target' },
    targets.map((column, i) => h('option', { value: column, selected: i === targets.length - 1 }, column)),
  );
  const features = h('select', { id: 'features', multiple: true, size: Math.min(6, Math.max(1, dataset.columns.length - 1)) });
  const fillFeatures = () =>
    features.replaceChildren(...featureChoices(dataset, target.value).map((choice) => h('option', { value: choice.name, selected: true }, choice.label)));
  target.addEventListener('change', fillFeatures);
  fillFeatures();
  const withMissing = (dataset.schema ?? []).filter((column) => column.missing > 0 && column.type !== 'text').map((column) => column.name);
  const missing = h(
    'select',
    { id: 'missing' },
    h('option', { value: 'drop', selected: true }, 'drop the rows'),
    h('option', { value: 'error' }, 'refuse the job'),
  );
  const message = h('div');
  return h(
    'form',
    {
      onsubmit: async (event: Event) => {
        event.preventDefault();
        message.replaceChildren();
        const request: CreateJobRequest = {
          kind: kind.value as CreateJobRequest['kind'],
          datasetId: dataset.datasetId,
          target: target.value,
        };
        if (alpha.value !== '') request.alpha = Number(alpha.value);
        if (alphas.value.trim() !== '')
          request.alphas = alphas.value
            .split(/[,\s]+/)
            .filter(Boolean)
            .map(Number);
        request.features = [...features.selectedOptions].map((option) => option.value);
        request.missing = missing.value as NonNullable<CreateJobRequest['missing']>;
        try {
          const job = await client.createJob(request);
          location.hash = `#/jobs/${job.jobId}`;
        } catch (error) {
          message.replaceChildren(errorLine(error));
        }
      },
    },
    h('h3', {}, 'Train on it'),
    h(
      'div',
      { class: 'row' },
      field('Kind', kind),
      field('Alpha', alpha, 'RIDGE and LASSO; empty for the default'),
      field('Alphas', alphas, 'instead of alpha: up to 100 values, one model each'),
      field('Target', target),
      field('Features', features, 'every other number and category column unless you choose'),
      field(
        'Missing values',
        missing,
        withMissing.length > 0 ? `in ${withMissing.join(', ')}: a row with one in the target or a feature` : 'none in this dataset',
      ),
    ),
    h('p', {}, h('button', { type: 'submit' }, 'Train')),
    message,
  );
}

void start();
