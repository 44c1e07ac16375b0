import type { Job } from '../../client/index.js';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'closed';

/**
 * Every change of any of the tenant's jobs, over the WebSocket API's all-jobs
 * subscription (docs/api.md, "WebSocket: live job status"). A dropped connection is opened again
 * with exponential backoff (0.5 s doubling to 15 s, with jitter) and said so
 * through `onState`; after a reconnect `onResync` runs, since changes made while
 * disconnected are not replayed to an all-jobs subscription.
 */
export class LiveJobs {
  private socket: WebSocket | undefined;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private everOpened = false;

  constructor(
    private readonly url: string,
    private readonly apiKey: string,
    private readonly handlers: { onJob: (job: Job) => void; onState: (state: LiveState) => void; onResync: () => void },
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close();
    this.handlers.onState('closed');
  }

  private connect(): void {
    const url = new URL(this.url);
    // Browsers cannot set headers on a WebSocket: the key goes in ?token= on this one request, never in the page's URL.
    url.searchParams.set('token', this.apiKey);
    this.handlers.onState(this.everOpened ? 'reconnecting' : 'connecting');
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener('open', () => {
      socket.send(JSON.stringify({ action: 'subscribe' }));
    });
    socket.addEventListener('message', (event) => {
      let message: { type?: string; job?: Job };
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (message.type === 'subscribed') {
        const reconnected = this.everOpened;
        this.everOpened = true;
        this.attempt = 0;
        this.handlers.onState('live');
        if (reconnected) this.handlers.onResync();
      } else if (message.type === 'job' && message.job) {
        this.handlers.onJob(message.job);
      }
    });
    socket.addEventListener('close', () => {
      if (this.socket !== socket || this.stopped) return;
      this.handlers.onState('reconnecting');
      this.everOpened = true;
      const delay = Math.min(15_000, 500 * 2 ** this.attempt++) * (0.75 + Math.random() / 2);
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }
}
