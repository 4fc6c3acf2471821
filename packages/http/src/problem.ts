/** Base of every problem `type` URI; the types are stable, documented in openapi/README.md. */
export const PROBLEM_BASE = 'https://alder.dev/problems/';

export const problemTitles = {
  'malformed-request': 'Malformed request',
  unauthorized: 'Unauthorized',
  'invalid-signature': 'Invalid webhook signature',
  forbidden: 'Forbidden',
  'not-found': 'Not found',
  conflict: 'Conflict',
  'lease-expired': 'Lease expired',
  'lease-released': 'Lease released',
  'already-annotated': 'Task already annotated',
  'labels-locked': 'Labels can not change',
  'labels-changed': 'Labels changed during the stream',
  'last-admin-key': 'Last admin key',
  'last-admin': 'Last admin',
  'email-taken': 'Email taken',
  'overlap-full': 'Item needs no more annotations',
  'webhook-id-reused': 'Webhook id reused',
  'idempotency-key-in-flight': 'A request with this Idempotency-Key is in progress',
  'idempotency-key-mismatch': 'Idempotency-Key used with another request',
  'idempotency-response-too-large': 'The first answer to this Idempotency-Key was not kept',
  'delivery-pending': 'Delivery still pending',
  'webhook-disabled': 'Webhook disabled',
  'payload-too-large': 'Payload too large',
  'unsupported-media-type': 'Unsupported media type',
  'uri-too-long': 'URI too long',
  'request-timeout': 'Request timeout',
  'headers-too-large': 'Request headers too large',
  validation: 'Validation failed',
  unavailable: 'Service unavailable',
  'ranking-pending': 'Ranking pending',
  internal: 'Internal server error',
  'stored-data-invalid': 'Stored data breaks its contract',
} as const;

export type ProblemKind = keyof typeof problemTitles;

/** The kind a bare status stands for, where something other than a handler chose the status. */
const KIND_OF_STATUS: Partial<Record<number, ProblemKind>> = {
  400: 'malformed-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  408: 'request-timeout',
  409: 'conflict',
  413: 'payload-too-large',
  414: 'uri-too-long',
  415: 'unsupported-media-type',
  422: 'validation',
  431: 'headers-too-large',
  503: 'unavailable',
};

/** The problem kind for a status: its own where it has one, else the generic one of its class. */
export function kindOfStatus(status: number): ProblemKind {
  return KIND_OF_STATUS[status] ?? (status >= 500 ? 'internal' : 'malformed-request');
}

/** A problem document of a kind, as the error handler, the guard on responses and the socket's error handler all write it. */
export function problemDocument(status: number, kind: ProblemKind = kindOfStatus(status), detail?: string, errors?: ProblemFieldError[]): ProblemDocument {
  return { type: PROBLEM_BASE + kind, title: problemTitles[kind], status, ...(detail !== undefined && { detail }), ...(errors && { errors }) };
}

export interface ProblemFieldError {
  path: string;
  message: string;
}

/** An RFC 9457 problem document as Alder sends it. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  request_id?: string;
  errors?: ProblemFieldError[];
}

/** Thrown by handlers; the error handler renders it as `application/problem+json`. */
export class HttpProblem extends Error {
  readonly type: string;
  readonly title: string;

  constructor(
    readonly status: number,
    readonly kind: ProblemKind,
    readonly detail?: string,
    readonly errors?: ProblemFieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail ?? problemTitles[kind]);
    this.name = 'HttpProblem';
    this.type = PROBLEM_BASE + kind;
    this.title = problemTitles[kind];
  }
}

/** Shorthands for the problems handlers throw. */
export const problems = {
  notFound: (detail: string) => new HttpProblem(404, 'not-found', detail),
  forbidden: (detail: string) => new HttpProblem(403, 'forbidden', detail),
  conflict: (
    kind: Extract<ProblemKind, 'conflict' | 'lease-expired' | 'lease-released' | 'already-annotated' | 'labels-locked' | 'labels-changed' | 'last-admin-key' | 'last-admin' | 'email-taken' | 'overlap-full' | 'webhook-id-reused' | 'delivery-pending' | 'webhook-disabled'>,
    detail: string,
  ) =>
    new HttpProblem(409, kind, detail),
  validation: (detail: string, errors: ProblemFieldError[] = []) => new HttpProblem(422, 'validation', detail, errors),
  unauthorized: (detail: string) => new HttpProblem(401, 'unauthorized', detail, undefined, { 'www-authenticate': 'Bearer realm="alder"' }),
  /** A signed operation's request whose Standard Webhooks signature is missing or does not verify (or whose signer is unknown: the same answer). */
  invalidSignature: (detail: string) => new HttpProblem(401, 'invalid-signature', detail),
};
