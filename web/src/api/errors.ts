/** One offending field of a 422 (`details.fields`), e.g. `{path: "body.input.topic", message: "must not be empty"}`. */
export interface FieldProblem {
  path: string;
  message: string;
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown };
  correlation_id?: unknown;
}

/**
 * An API answer that was not a success, in the gateway's error shape
 * (`{"error":{"code","message","details"?},"correlation_id"}`), or a request that never got an answer
 * (status 0). The message and the correlation id are what people quote to support.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly correlationId: string | null,
    readonly details: unknown = undefined,
  ) {
    super(message);
  }

  /** The 422's field problems (`details.fields`), or none. */
  get fields(): FieldProblem[] {
    const d = this.details as { fields?: unknown } | undefined;
    if (!d || !Array.isArray(d.fields)) return [];
    return d.fields.filter(
      (f): f is FieldProblem =>
        typeof f === 'object' && f !== null && typeof (f as FieldProblem).path === 'string',
    );
  }

  /** From a response and its body (parsed JSON, text, or nothing). */
  static from(response: Response, body: unknown): ApiError {
    const b = (typeof body === 'object' && body !== null ? body : {}) as ErrorBody;
    const headerId = response.headers.get('x-correlation-id');
    const correlationId = typeof b.correlation_id === 'string' ? b.correlation_id : headerId;
    const code = typeof b.error?.code === 'string' ? b.error.code : `http_${response.status}`;
    const message =
      typeof b.error?.message === 'string'
        ? b.error.message
        : `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`;
    return new ApiError(response.status, code, message, correlationId, b.error?.details);
  }

  static network(err: unknown): ApiError {
    const why = err instanceof Error && err.message ? ` (${err.message})` : '';
    return new ApiError(0, 'network_error', `Could not reach the RaptorFlow API${why}.`, null);
  }
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}

/** Reads a failed response's body as JSON when it is JSON, else as text. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let body: unknown = undefined;
  try {
    const text = await response.text();
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  } catch {
    // No body to read.
  }
  return ApiError.from(response, body);
}
