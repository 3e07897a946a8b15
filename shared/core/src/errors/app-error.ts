/**
 * Every error a client may see is an AppError: the code is the stable contract, the message is for people.
 * Anything that is not an AppError becomes a 500 with a generic message (and an error_id in the logs).
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message = 'Authentication required') {
    super('unauthenticated', 401, message, undefined, { 'WWW-Authenticate': 'Bearer' });
  }
}

export class PermissionDeniedError extends AppError {
  constructor(message = 'You do not have permission to do this', details?: unknown) {
    super('permission_denied', 403, message, details);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Not found', details?: unknown) {
    super('not_found', 404, message, details);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, details?: unknown) {
    super('conflict', 409, message, details);
  }
}

export interface FieldProblem {
  path: string;
  message: string;
}

export class ValidationFailedError extends AppError {
  constructor(message: string, fields: FieldProblem[] = []) {
    super('validation_failed', 422, message, { fields });
  }
}

export interface BudgetDetails {
  budget_usd: number;
  spent_usd: number;
  reserved_usd: number;
  requested_usd: number;
}

export class BudgetExceededError extends AppError {
  constructor(details: BudgetDetails) {
    super('budget_exceeded', 402, 'This call would exceed the workspace monthly budget', details);
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super('rate_limited', 429, `Too many requests; retry after ${seconds}s`, undefined, {
      'Retry-After': String(seconds),
    });
  }
}

/** Every model in the chain failed (after retries); details list each attempt. */
export class ModelUnavailableError extends AppError {
  constructor(message: string, details: unknown, timedOut = false) {
    super(timedOut ? 'model_timeout' : 'model_unavailable', timedOut ? 504 : 502, message, details);
  }
}

/**
 * A model's structured answer did not match the schema its step asked for, even after one repair request
 * (the first answer and the validation errors sent back). `details.path` names the first failing field.
 */
export class InvalidModelAnswerError extends AppError {
  constructor(message: string, details: { schema: string; path: string; issues: unknown[] }) {
    super('invalid_model_answer', 502, message, details);
  }
}

/** The caller cancelled the call (client gone, run cancelled): nothing more is spent on it. */
export class CancelledError extends AppError {
  constructor(message = 'The call was cancelled') {
    super('cancelled', 499, message);
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message = 'A dependency is unavailable; try again shortly', retryAfterSeconds = 5) {
    super('service_unavailable', 503, message, undefined, { 'Retry-After': String(retryAfterSeconds) });
  }
}

export class InvalidJsonError extends AppError {
  constructor() {
    super('invalid_json', 400, 'The request body is not valid JSON');
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limit: string, what = 'The request body', details?: unknown) {
    super('payload_too_large', 413, `${what} is larger than ${limit}`, details);
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
