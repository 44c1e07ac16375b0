import type { DatasetUpload } from '../../client/index.js';

/**
 * Sends the file with the dataset's presigned POST. XMLHttpRequest rather than
 * fetch: only it reports upload progress (bytes sent) in browsers today. S3's
 * refusal comes back as XML: its Code and Message are what the page shows.
 */
export function uploadWithProgress(upload: DatasetUpload, file: File, onProgress: (sent: number, total: number) => void): Promise<void> {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append('file', file, file.name || 'data.csv');
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', upload.uploadUrl);
    request.upload.addEventListener('progress', (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size));
    request.addEventListener('load', () => {
      if (request.status >= 200 && request.status < 300) return resolve();
      const text = request.responseText;
      const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP ${request.status}`;
      const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1] ?? 'the upload was refused';
      reject(new Error(`upload refused: ${code}: ${message}`));
    });
    request.addEventListener('error', () => reject(new Error(`upload failed: cannot reach ${new URL(upload.uploadUrl).origin}`)));
    request.send(form);
  });
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${+(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${+(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}
