/**
 * Typed domain errors. Each carries a stable UPPER_SNAKE `code` (the one clients see)
 * and a `category`; the HTTP adapter maps categories to statuses in one place
 * (lambdas/commons/http/http.ts), so the domain never knows about HTTP.
 */
export type ErrorCategory =
  | 'invalid' // 400
  | 'unauthorized' // 401
  | 'not_found' // 404
  | 'conflict' // 409
  | 'too_large' // 413
  | 'limited' // 429
  | 'unavailable'; // 503

export class DomainError extends Error {
  /** Seconds a client should wait before trying again (the `Retry-After` header), when waiting helps. */
  retryAfterSeconds?: number;

  constructor(
    readonly code: string,
    message: string,
    readonly category: ErrorCategory,
    readonly details?: unknown,
    /** `cause`: what made it happen (a dependency's error), for the logs; never serialised to a client. */
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that breaks the contract; `details` lists the failing fields. */
export class ValidationFailed extends DomainError {
  constructor(message: string, details?: unknown, code = 'VALIDATION_ERROR') {
    super(code, message, 'invalid', details);
  }
}

export class Unauthorized extends DomainError {
  constructor() {
    super('UNAUTHORIZED', 'missing or unknown API key', 'unauthorized');
  }
}

/** Missing, or owned by another tenant: the two are never told apart. */
export class NotFound extends DomainError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found`, 'not_found');
  }
}

export class Conflict extends DomainError {
  constructor(
    code:
      | 'MODEL_NOT_READY'
      | 'JOB_NOT_CANCELLABLE'
      | 'IDEMPOTENCY_CONFLICT'
      | 'DATASET_NOT_READY'
      | 'UPLOAD_ALREADY_COMPLETE'
      | 'UPLOAD_EXPIRED'
      | 'NOT_A_MULTIPART_UPLOAD',
    message: string,
  ) {
    super(code, message, 'conflict');
  }
}

/** The same Idempotency-Key is being served by another request right now: wait and send it again. */
export class IdempotencyInProgress extends DomainError {
  constructor(retryAfterSeconds = 1) {
    super('IDEMPOTENCY_IN_PROGRESS', 'a request with this Idempotency-Key is still in progress; retry it after Retry-After seconds', 'conflict');
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class PayloadTooLarge extends DomainError {
  constructor(message: string) {
    super('PAYLOAD_TOO_LARGE', message, 'too_large');
  }
}

/** A dependency failed in a way that may pass: the client retries after `retryAfterSeconds`. */
export class ServiceUnavailable extends DomainError {
  constructor(code: string, message: string, retryAfterSeconds = 1, options?: ErrorOptions) {
    super(code, message, 'unavailable', undefined, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class LimitExceeded extends DomainError {
  constructor(code: 'TOO_MANY_ACTIVE_JOBS' | 'RATE_LIMITED', message: string) {
    super(code, message, 'limited');
  }
}

/** Data that cannot be fitted: the job fails with this code and message. */
export class TrainingFailed extends DomainError {
  constructor(code: 'INSUFFICIENT_DATA' | 'NUMERIC_OVERFLOW' | 'RANK_DEFICIENT' | 'INVALID_DATA' | 'DATASET_NOT_READY', message: string) {
    super(code, message, 'invalid');
  }
}
