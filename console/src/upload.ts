import type { CompletedPart, DatasetUpload, RegressionJobsClient } from '../../client/index.js';

/**
 * Sends the file the way POST /datasets answered: one presigned POST, or (above
 * the multipart threshold) each part PUT to its presigned URL, then completed.
 * XMLHttpRequest rather than fetch: only it reports upload progress (bytes sent)
 * in browsers today. S3's refusal comes back as XML: its Code and Message are
 * what the page shows.
 */
export async function uploadWithProgress(
  client: RegressionJobsClient,
  upload: DatasetUpload,
  file: File,
  onProgress: (sent: number, total: number) => void,
): Promise<void> {
  if (upload.uploadMethod === 'POST') {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append('file', file, file.name || 'data.csv');
    await send('POST', upload.uploadUrl, form, (sent) => onProgress(sent, file.size));
    return;
  }
  // Parts one after another: each reports its bytes, added to the parts already sent.
  const completed: CompletedPart[] = [];
  let before = 0;
  for (const part of upload.parts) {
    const start = (part.partNumber - 1) * upload.partSizeBytes;
    const body = file.slice(start, Math.min(file.size, start + upload.partSizeBytes));
    const request = await send('PUT', part.url, body, (sent) => onProgress(before + sent, file.size));
    const etag = request.getResponseHeader('ETag');
    if (!etag) throw new Error(`upload refused: part ${part.partNumber} was stored but S3 sent no ETag (the bucket's CORS rule must expose it)`);
    completed.push({ partNumber: part.partNumber, etag });
    before += body.size;
  }
  await client.completeUpload(upload.datasetId, completed);
}

function send(method: 'POST' | 'PUT', url: string, body: FormData | Blob, onSent: (bytes: number) => void): Promise<XMLHttpRequest> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, url);
    request.upload.addEventListener('progress', (event) => onSent(event.loaded));
    request.addEventListener('load', () => {
      if (request.status >= 200 && request.status < 300) return resolve(request);
      const text = request.responseText;
      const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP ${request.status}`;
      const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1] ?? 'the upload was refused';
      reject(new Error(`upload refused: ${code}: ${message}`));
    });
    request.addEventListener('error', () => reject(new Error(`upload failed: cannot reach ${new URL(url).origin}`)));
    request.send(body);
  });
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${+(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${+(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}
