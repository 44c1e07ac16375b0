import createFetchClient from 'openapi-fetch';
import type { components, paths } from './schema.js';

/**
 * A typed client for the regression-jobs API: the types are generated from
 * docs/openapi.json (client/schema.d.ts); this layer adds what users do with them:
 * create a job and wait for it (live over the WebSocket API, polling when the socket
 * cannot connect), upload a dataset (one presigned POST, or parts past the
 * multipart threshold, resumable), predict, and walk
 * the paginated lists. Errors are one class, `ApiError`, carrying the server's
 * `{status, code, message, details}` as it answered them; the client validates
 * nothing the server validates.
 */

export type Job = components['schemas']['Job'];
export type JobStatus = components['schemas']['JobStatus'];
export type Model = components['schemas']['Model'];
export type Dataset = components['schemas']['Dataset'];
export type DatasetUpload = components['schemas']['DatasetUpload'];
export type DatasetMultipartUpload = components['schemas']['DatasetMultipartUpload'];
export type UploadParts = components['schemas']['UploadParts'];
/** A part of a multipart upload as POST /datasets/{datasetId}/complete takes it. */
export type CompletedPart = { partNumber: number; etag: string };
export type Prediction = components['schemas']['Prediction'];
export type CreateJobRequest = components['schemas']['CreateJobRequest'];
export type PredictRequest = components['schemas']['PredictRequest'];
/** One input by column name for `predictRows`: a number for a number column, a level for a category. */
export type PredictRow = NonNullable<PredictRequest['rows']>[number];
/** A dataset's delimiter and decimal separator, as POST /datasets takes them and GET /datasets/{id} answers them. */
export type CsvFormat = components['schemas']['CsvFormat'];
export type Delimiter = CsvFormat['delimiter'];
export type DecimalSeparator = CsvFormat['decimal'];
/** One column of a READY dataset's `schema`: its type, missing values and (categories) levels. */
export type ColumnSchema = components['schemas']['ColumnSchema'];
/** The body of POST /datasets. */
export type CreateDatasetRequest = NonNullable<paths['/datasets']['post']['requestBody']>['content']['application/json'];
export type FieldIssue = components['schemas']['FieldIssue'];
export type JobPage = components['schemas']['JobPage'];
export type JobEvent = components['schemas']['JobEvent'];
export type { components, paths };

/** A job's status after which nothing changes. */
export const TERMINAL_STATUSES: readonly JobStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

/**
 * Every failure, as one class: the server's error as it answered it, or (status 0,
 * code `UNREACHABLE`) a request that never got an answer.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: FieldIssue[],
    /** Seconds the server asked to wait before a retry (`Retry-After`), when it said. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  /** The REST API's base URL: the stack's ApiUrl output (…/v1/), or http://127.0.0.1:4000 for `npm start`. */
  baseUrl: string;
  /** An API key (rj_…), sent as `Authorization: Bearer <key>` and as the WebSocket's `?token=`. */
  apiKey: string;
  /** The WebSocket API's URL (WebSocketUrl output, ws://127.0.0.1:4001 offline); without it `waitForJob` polls. */
  webSocketUrl?: string | undefined;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** @default globalThis.WebSocket (Node.js 22+, browsers) */
  WebSocket?: typeof WebSocket;
}

export interface CreateJobOptions {
  /** Makes retries safe: the same key and body answer the same job for 24 h. @default a random UUID */
  idempotencyKey?: string;
  /** Retries on 502, 503, 504 and IDEMPOTENCY_IN_PROGRESS, with the same key. @default 3 */
  retries?: number;
}

export interface WaitOptions {
  /** Called with every new state of the job (never an older one than already seen). */
  onProgress?: (job: Job) => void;
  /** Stops waiting (not the job): the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Polling interval when the WebSocket cannot be used. @default 1000 ms */
  pollIntervalMs?: number;
  /** How long the WebSocket may take to open before polling takes over. @default 10000 ms */
  connectTimeoutMs?: number;
}

export interface UploadProgress {
  /** Bytes S3 has accepted so far (whole parts for a multipart upload; parts sent before a resume included). */
  bytesSent: number;
  totalBytes: number;
  /** The dataset being uploaded: what `resumeDatasetId` takes after an interruption. */
  datasetId: string;
  uploadMethod: 'POST' | 'MULTIPART';
}

export interface UploadOptions {
  /** A label for the dataset. */
  name?: string;
  /** The file's delimiter (`\t` for tab-separated files); ignored on resume (the dataset keeps its format). @default ',' (the server's) */
  delimiter?: Delimiter;
  /** The decimal separator of the file's numbers; ignored on resume. @default '.' (the server's) */
  decimal?: DecimalSeparator;
  /** Waits until the dataset is READY or INVALID (it is checked once after upload). @default true */
  waitUntilChecked?: boolean;
  signal?: AbortSignal;
  /**
   * Called as bytes are accepted, and once the dataset exists with 0 (so a caller can keep its id to resume). A
   * presigned POST is then sent as a counted stream, which Node.js and browsers with streaming uploads support.
   */
  onUploadProgress?: (progress: UploadProgress) => void;
  /** Parts sent at once. @default 4 */
  partConcurrency?: number;
  /** Attempts per part before the upload fails (network errors, 5xx, an expired URL, which is renewed). @default 4 */
  partAttempts?: number;
  /** The wait before a part's second attempt, doubled for each next one. @default 500 ms */
  partRetryDelayMs?: number;
  /**
   * Resumes the multipart upload of this dataset instead of creating one: the parts S3 holds are kept (their sizes
   * must match the source's), the others are sent, then the upload is completed. The source must be a Blob.
   */
  resumeDatasetId?: string;
}

/** What can be uploaded: a Blob or File (in Node.js, `fs.openAsBlob(path)` streams from disk), or a stream of known size. */
export type UploadSource = Blob | { stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>; size: number; filename?: string };

interface ErrorBody {
  error?: { code?: string; message?: string; details?: FieldIssue[] };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Whether `next` is a newer state of the job than `current`: every change raises `version`. */
export function newerJob(current: Job | undefined, next: Job): boolean {
  return current === undefined || next.version > current.version;
}

export class RegressionJobsClient {
  private readonly http;
  private readonly fetch: typeof fetch;
  private readonly WebSocket: typeof WebSocket | undefined;

  constructor(readonly options: ClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.http = createFetchClient<paths>({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      headers: { Authorization: `Bearer ${options.apiKey}` },
      fetch: (request: Request) => this.send(request),
    });
  }

  /** Every request goes through here: a request that gets no answer becomes ApiError UNREACHABLE. */
  private async send(request: Request): Promise<Response> {
    try {
      return await this.fetch(request);
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiError(0, 'UNREACHABLE', `cannot reach ${new URL(request.url).origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
  }

  /** The data of a typed call, or its error as ApiError. */
  private async call<T>(promise: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
    const { data, error, response } = await promise;
    if (response.ok && data !== undefined) return data;
    const body = (error ?? {}) as ErrorBody;
    const retryAfter = Number(response.headers.get('Retry-After'));
    throw new ApiError(
      response.status,
      body.error?.code ?? `HTTP_${response.status}`,
      body.error?.message ?? (response.statusText || `HTTP ${response.status}`),
      body.error?.details,
      Number.isFinite(retryAfter) && response.headers.has('Retry-After') ? retryAfter : undefined,
    );
  }

  health() {
    return this.call(this.http.GET('/health', { headers: { Authorization: null } }));
  }

  /**
   * Creates a job. An `Idempotency-Key` is always sent (a random one unless given),
   * so the retries on 502, 503, 504 and IDEMPOTENCY_IN_PROGRESS can never create a
   * second job.
   */
  async createJob(request: CreateJobRequest, options: CreateJobOptions = {}): Promise<Job> {
    const idempotencyKey = options.idempotencyKey ?? crypto.randomUUID();
    const retries = options.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.call(this.http.POST('/jobs', { body: request, params: { header: { 'Idempotency-Key': idempotencyKey } } }));
      } catch (error) {
        const retriable =
          error instanceof ApiError &&
          ([502, 503, 504].includes(error.status) || error.code === 'IDEMPOTENCY_IN_PROGRESS') &&
          error.code !== 'WORKFLOW_START_FAILED';
        if (!retriable || attempt >= retries) throw error;
        await sleep(((error as ApiError).retryAfterSeconds ?? 2 ** attempt) * 1000);
      }
    }
  }

  getJob(jobId: string): Promise<Job> {
    return this.call(this.http.GET('/jobs/{jobId}', { params: { path: { jobId } } }));
  }

  cancelJob(jobId: string): Promise<Job> {
    return this.call(this.http.POST('/jobs/{jobId}/cancel', { params: { path: { jobId } } }));
  }

  /** Every job, newest first, page by page (`pageSize` per request). */
  async *jobs(options: { status?: JobStatus; pageSize?: number } = {}): AsyncGenerator<Job> {
    let nextToken: string | undefined;
    do {
      const query = { ...(options.status ? { status: options.status } : {}), limit: String(options.pageSize ?? 50), ...(nextToken ? { nextToken } : {}) };
      const page = await this.call(this.http.GET('/jobs', { params: { query } }));
      yield* page.items;
      nextToken = page.nextToken ?? undefined;
    } while (nextToken);
  }

  /** One page of jobs, newest first: for a caller that pages itself (the console); `jobs()` walks them all. */
  listJobs(options: { status?: JobStatus | undefined; limit?: number; nextToken?: string | undefined } = {}): Promise<JobPage> {
    const query = {
      ...(options.status ? { status: options.status } : {}),
      limit: String(options.limit ?? 50),
      ...(options.nextToken ? { nextToken: options.nextToken } : {}),
    };
    return this.call(this.http.GET('/jobs', { params: { query } }));
  }

  /** A job's history (its first page: status changes and retried attempts, oldest first). */
  async jobEvents(jobId: string): Promise<JobEvent[]> {
    const page = await this.call(this.http.GET('/jobs/{jobId}/events', { params: { path: { jobId } } }));
    return page.items;
  }

  getModel(modelId: string): Promise<Model> {
    return this.call(this.http.GET('/models/{modelId}', { params: { path: { modelId } } }));
  }

  /** Every model, page by page. */
  async *models(options: { pageSize?: number } = {}): AsyncGenerator<Model> {
    let nextToken: string | undefined;
    do {
      const query = { limit: String(options.pageSize ?? 50), ...(nextToken ? { nextToken } : {}) };
      const page = await this.call(this.http.GET('/models', { params: { query } }));
      yield* page.items;
      nextToken = page.nextToken ?? undefined;
    } while (nextToken);
  }

  predict(modelId: string, request: PredictRequest): Promise<Prediction> {
    return this.call(this.http.POST('/models/{modelId}/predict', { params: { path: { modelId } }, body: request }));
  }

  /**
   * Predicts from rows by column name (`{"Sepal.Width": 3, "Species": "setosa"}`), for a model trained on a dataset:
   * the model's `columns` and `levels` say what each row needs. One prediction per row, in order.
   */
  predictRows(modelId: string, rows: PredictRow[]): Promise<Prediction> {
    return this.predict(modelId, { rows });
  }

  /**
   * Registers a dataset; with `sizeBytes` above the multipart threshold the answer is a multipart upload. `delimiter`
   * and `decimal` say how the file is written (the server's defaults: `,` and `.`).
   */
  createDataset(options: CreateDatasetRequest = {}): Promise<DatasetUpload> {
    const body: CreateDatasetRequest = {
      ...(options.name ? { name: options.name } : {}),
      ...(options.sizeBytes === undefined ? {} : { sizeBytes: options.sizeBytes }),
      ...(options.delimiter === undefined ? {} : { delimiter: options.delimiter }),
      ...(options.decimal === undefined ? {} : { decimal: options.decimal }),
    };
    return this.call(this.http.POST('/datasets', { body }));
  }

  /** Where a multipart upload stands: the parts S3 holds and fresh URLs for the others. */
  getUploadParts(datasetId: string): Promise<UploadParts> {
    return this.call(this.http.GET('/datasets/{datasetId}/parts', { params: { path: { datasetId } } }));
  }

  /** Completes a multipart upload with every part's ETag, 1..partCount in order. */
  completeUpload(datasetId: string, parts: CompletedPart[]): Promise<Dataset> {
    return this.call(this.http.POST('/datasets/{datasetId}/complete', { params: { path: { datasetId } }, body: { parts } }));
  }

  getDataset(datasetId: string): Promise<Dataset> {
    return this.call(this.http.GET('/datasets/{datasetId}', { params: { path: { datasetId } } }));
  }

  /**
   * Creates a dataset declaring the source's size, uploads it the way the server
   * answers (one presigned POST, or parts PUT to presigned URLs then completed), and
   * by default waits until the service has checked it (READY or INVALID). A part
   * that fails is sent again (`partAttempts`); an upload that stops for good can be
   * resumed with `resumeDatasetId` (the parts already sent are kept). S3's refusal
   * of an upload is an ApiError with S3's code.
   */
  async uploadDataset(source: UploadSource, options: UploadOptions = {}): Promise<Dataset> {
    let datasetId: string;
    if (options.resumeDatasetId !== undefined) {
      if (!(source instanceof Blob)) throw new ApiError(0, 'RESUME_NEEDS_A_FILE', 'only a Blob or File can be resumed: its parts are read again out of order');
      datasetId = options.resumeDatasetId;
      const state = await this.getUploadParts(datasetId);
      await this.sendParts(source, state, options);
    } else {
      const dataset = await this.createDataset({
        ...(options.name ? { name: options.name } : {}),
        sizeBytes: source.size,
        ...(options.delimiter === undefined ? {} : { delimiter: options.delimiter }),
        ...(options.decimal === undefined ? {} : { decimal: options.decimal }),
      });
      datasetId = dataset.datasetId;
      if (dataset.uploadMethod === 'MULTIPART') {
        await this.sendParts(
          source,
          { datasetId, partSizeBytes: dataset.partSizeBytes, partCount: dataset.partCount, uploaded: [], parts: dataset.parts },
          options,
        );
      } else {
        await this.postUpload(dataset, source, options);
      }
    }
    if (options.waitUntilChecked === false) return this.getDataset(datasetId);
    for (;;) {
      const current = await this.getDataset(datasetId);
      if (current.status === 'READY' || current.status === 'INVALID') return current;
      await sleep(500, options.signal);
    }
  }

  /** One presigned POST: the form's fields, then the file. */
  private async postUpload(dataset: Extract<DatasetUpload, { uploadMethod: 'POST' }>, source: UploadSource, options: UploadOptions): Promise<void> {
    const progress = options.onUploadProgress;
    const report = (bytesSent: number) => progress?.({ bytesSent, totalBytes: source.size, datasetId: dataset.datasetId, uploadMethod: 'POST' });
    report(0);
    // Counted as it is read: a Blob is then sent as a stream, with its length (S3 refuses a POST without one).
    const counted: UploadSource = progress ? countedStream(source, report) : source;
    const { body, headers } = await multipart(dataset.fields, counted);
    const response = await this.send(
      new Request(dataset.uploadUrl, { method: 'POST', body, headers, duplex: 'half', signal: options.signal ?? null } as RequestInit),
    );
    if (!response.ok) throw await s3Refusal(response);
    report(source.size);
  }

  /**
   * Sends every part S3 does not hold yet (`partConcurrency` at once), each retried
   * on a network error, a 5xx or an expired URL (renewed from GET …/parts), then
   * completes the upload with every ETag.
   */
  private async sendParts(source: UploadSource, state: Omit<UploadParts, 'uploadExpiresAt'>, options: UploadOptions): Promise<void> {
    const { datasetId, partSizeBytes, partCount } = state;
    const ranges = partRanges(source.size, partSizeBytes);
    if (ranges.length !== partCount) {
      throw new ApiError(
        0,
        'SIZE_MISMATCH',
        `the file has ${source.size} bytes, ${ranges.length} parts of ${partSizeBytes}; the upload was declared with ${partCount} parts`,
      );
    }
    const etags = new Map<number, string>();
    for (const part of state.uploaded) {
      const range = ranges[part.partNumber - 1];
      if (!range || range.end - range.start !== part.sizeBytes) {
        throw new ApiError(
          0,
          'SIZE_MISMATCH',
          `part ${part.partNumber} on the server has ${part.sizeBytes} bytes, not the file's ${range ? range.end - range.start : 0}: is this the same file?`,
        );
      }
      etags.set(part.partNumber, part.etag);
    }
    let bytesSent = [...etags.keys()].reduce((total, partNumber) => total + partLength(ranges, partNumber), 0);
    const report = () => options.onUploadProgress?.({ bytesSent, totalBytes: source.size, datasetId, uploadMethod: 'MULTIPART' });
    report();
    const urls = new Map(state.parts.map((part) => [part.partNumber, part.url]));
    const renewUrls = async () => {
      for (const part of (await this.getUploadParts(datasetId)).parts) urls.set(part.partNumber, part.url);
    };
    const pending = ranges.map((_, index) => index + 1).filter((partNumber) => !etags.has(partNumber));
    const attempts = Math.max(1, options.partAttempts ?? 4);

    const sendPart = async (partNumber: number, body: Blob | Uint8Array) => {
      for (let attempt = 1; ; attempt++) {
        options.signal?.throwIfAborted();
        const url = urls.get(partNumber);
        if (url === undefined) throw new ApiError(0, 'UPLOAD_STATE', `the server gave no URL for part ${partNumber}`);
        let failure: ApiError;
        try {
          const response = await this.fetch(
            new Request(url, { method: 'PUT', body: body as NonNullable<RequestInit['body']>, signal: options.signal ?? null }),
          );
          const etag = response.headers.get('ETag');
          if (response.ok && etag) {
            etags.set(partNumber, etag);
            bytesSent += partLength(ranges, partNumber);
            report();
            return;
          }
          failure = response.ok ? new ApiError(response.status, 'NO_ETAG', 'S3 answered a part without a readable ETag header') : await s3Refusal(response);
        } catch (error) {
          if ((error as Error).name === 'AbortError') throw error;
          failure = error instanceof ApiError ? error : new ApiError(0, 'UNREACHABLE', `part ${partNumber}: ${(error as Error).message}`);
        }
        const retriable = failure.status === 0 || failure.status >= 500 || failure.status === 403;
        if (!retriable || attempt >= attempts) throw failure;
        await sleep(2 ** (attempt - 1) * (options.partRetryDelayMs ?? 500), options.signal);
        // A 403 is most likely an expired URL (they live 15 minutes): ask for fresh ones.
        if (failure.status === 403) await renewUrls();
      }
    };

    if (source instanceof Blob) {
      let next = 0;
      const worker = async () => {
        while (next < pending.length) {
          const partNumber = pending[next++] as number;
          const range = ranges[partNumber - 1] as { start: number; end: number };
          await sendPart(partNumber, source.slice(range.start, range.end));
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(options.partConcurrency ?? 4, pending.length)) }, worker));
    } else {
      // A stream is read once, in order: one part in memory at a time.
      let partNumber = 0;
      for await (const chunk of partsOf(source.stream, partSizeBytes)) {
        partNumber++;
        if (!etags.has(partNumber)) await sendPart(partNumber, chunk);
      }
    }
    const parts = ranges.map((_, index) => ({ partNumber: index + 1, etag: etags.get(index + 1) as string }));
    await this.completeUpload(datasetId, parts);
  }

  /**
   * Resolves with the job once it is COMPLETED, FAILED or CANCELLED, calling
   * `onProgress` with every newer state on the way. Follows it over the WebSocket
   * API when `webSocketUrl` is set and the socket connects; otherwise (or when the
   * socket closes early) polls GET /jobs/{jobId}. Aborting `signal` stops waiting,
   * never the job.
   */
  async waitForJob(jobId: string, options: WaitOptions = {}): Promise<Job> {
    let latest: Job | undefined;
    const seen = (job: Job) => {
      if (!newerJob(latest, job)) return;
      latest = job;
      options.onProgress?.(job);
    };
    if (this.options.webSocketUrl && this.WebSocket) {
      const job = await this.followOverWebSocket(jobId, seen, options.signal, options.connectTimeoutMs ?? 10_000);
      if (job) return job;
    }
    for (;;) {
      options.signal?.throwIfAborted();
      seen(await this.getJob(jobId));
      if (latest && TERMINAL_STATUSES.includes(latest.status)) return latest;
      await sleep(options.pollIntervalMs ?? 1000, options.signal);
    }
  }

  /** The job's final state over the WebSocket, or undefined when the socket could not be used (the caller polls). */
  private followOverWebSocket(jobId: string, seen: (job: Job) => void, signal: AbortSignal | undefined, connectTimeoutMs: number): Promise<Job | undefined> {
    const url = new URL(this.options.webSocketUrl as string);
    url.searchParams.set('token', this.options.apiKey);
    const Socket = this.WebSocket as typeof WebSocket;
    return new Promise((resolve, reject) => {
      const socket = new Socket(url);
      let settled = false;
      // A socket that neither opens nor fails (a proxy that swallows the upgrade): poll instead.
      const connectTimer = setTimeout(() => finish(() => resolve(undefined)), connectTimeoutMs);
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        signal?.removeEventListener('abort', onAbort);
        socket.close();
        outcome();
      };
      const onAbort = () => finish(() => reject(signal?.reason));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.addEventListener('open', () => {
        clearTimeout(connectTimer);
        socket.send(JSON.stringify({ action: 'subscribe', jobId }));
      });
      socket.addEventListener('message', (event) => {
        let message: { type?: string; job?: Job; code?: string; message?: string };
        try {
          message = JSON.parse(String(event.data));
        } catch {
          return;
        }
        if (message.type === 'job' && message.job?.jobId === jobId) {
          const job = message.job;
          seen(job);
          if (TERMINAL_STATUSES.includes(job.status)) finish(() => resolve(job));
        } else if (message.type === 'error') {
          // NOT_FOUND is what GET answers too; anything else (INTERNAL_ERROR, CONNECTION_CLOSED) is worth polling instead.
          if (message.code === 'NOT_FOUND') finish(() => reject(new ApiError(404, 'NOT_FOUND', message.message ?? 'job not found')));
          else finish(() => resolve(undefined));
        }
      });
      // A refused or dropped connection: poll from here (polling answers the current state, so nothing is missed).
      socket.addEventListener('close', () => finish(() => resolve(undefined)));
      socket.addEventListener('error', () => finish(() => resolve(undefined)));
    });
  }
}

/** A multipart/form-data body for a presigned POST: the fields, then the file part (which must come last). */
async function multipart(
  fields: Record<string, string>,
  source: UploadSource,
): Promise<{ body: NonNullable<RequestInit['body']>; headers: Record<string, string> }> {
  if (source instanceof Blob) {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append('file', source, (source as File).name || 'data.csv');
    return { body: form, headers: {} };
  }
  // A stream: written by hand so the length is known up front (S3 refuses a POST without Content-Length).
  const boundary = `----rj${crypto.randomUUID().replaceAll('-', '')}`;
  const encoder = new TextEncoder();
  const fieldParts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  const fileHeader = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${source.filename ?? 'data.csv'}"\r\nContent-Type: text/csv\r\n\r\n`;
  const head = encoder.encode(`${fieldParts.join('')}${fileHeader}`);
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  const stream = source.stream;
  async function* parts(): AsyncGenerator<Uint8Array> {
    yield head;
    yield* stream as AsyncIterable<Uint8Array>;
    yield tail;
  }
  return {
    // Typed by hand: the DOM library's ReadableStream (the console type-checks this file with it) does not declare `from` yet.
    body: (ReadableStream as unknown as { from(source: AsyncIterable<Uint8Array>): unknown }).from(parts()) as NonNullable<RequestInit['body']>,
    headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': String(head.length + source.size + tail.length) },
  };
}

/** S3's XML refusal as an ApiError with S3's code. */
async function s3Refusal(response: Response): Promise<ApiError> {
  const text = await response.text();
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP_${response.status}`;
  const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1] ?? 'the upload was refused';
  return new ApiError(response.status, code, `upload refused: ${message}`);
}

/** The byte range of each part: `partSizeBytes` each, the last one shorter (an empty file is one empty part). */
export function partRanges(size: number, partSizeBytes: number): { start: number; end: number }[] {
  const count = Math.max(1, Math.ceil(size / partSizeBytes));
  return Array.from({ length: count }, (_, index) => ({ start: index * partSizeBytes, end: Math.min(size, (index + 1) * partSizeBytes) }));
}

function partLength(ranges: readonly { start: number; end: number }[], partNumber: number): number {
  const range = ranges[partNumber - 1];
  return range ? range.end - range.start : 0;
}

/** A stream cut into parts of `partSizeBytes` (the last one shorter). */
async function* partsOf(stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, partSizeBytes: number): AsyncGenerator<Uint8Array> {
  let buffer = new Uint8Array(partSizeBytes);
  let filled = 0;
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    let offset = 0;
    while (offset < chunk.length) {
      const taken = Math.min(partSizeBytes - filled, chunk.length - offset);
      buffer.set(chunk.subarray(offset, offset + taken), filled);
      filled += taken;
      offset += taken;
      if (filled === partSizeBytes) {
        yield buffer;
        buffer = new Uint8Array(partSizeBytes);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}

/** The source as a stream that reports the bytes read so far. */
function countedStream(source: UploadSource, report: (bytes: number) => void): UploadSource {
  const inner = source instanceof Blob ? source.stream() : source.stream;
  let read = 0;
  async function* counting(): AsyncGenerator<Uint8Array> {
    for await (const chunk of inner as AsyncIterable<Uint8Array>) {
      read += chunk.length;
      report(read);
      yield chunk;
    }
  }
  const filename = source instanceof Blob ? (source as File).name || 'data.csv' : (source.filename ?? 'data.csv');
  return { stream: counting(), size: source.size, filename };
}
