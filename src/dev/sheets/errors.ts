// Errors in Google's shape: { error: { code, message, status } }.

export const STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = () => new ApiError(404, 'Requested entity was not found.');
export const invalid = (message: string) => new ApiError(400, message);
export const internal = () => new ApiError(500, 'Internal error encountered.');

/** The same error with Google's prefix for a part of a batch, e.g. `Invalid data[2]: …`. */
export function within<T>(where: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof ApiError && error.code === 400) throw invalid(`Invalid ${where}: ${error.message}`);
    throw error;
  }
}
