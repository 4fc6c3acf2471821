import { ContractViolation } from '@alder/contracts';
import { HttpProblem, type HandlerMap } from '@alder/http';

type AnyHandler = (request: { log: { error(obj: object, msg: string): void } }, reply: unknown) => Promise<unknown>;

/**
 * A stored row that breaks its declared contract (@alder/contracts) is a bug in whoever wrote it,
 * not the caller's fault and not something to paper over with a guess. Every handler is wrapped
 * so that such a row is logged with its issues (at error, with the request id) and answered 500
 * `stored-data-invalid`, whose body names no internals; nothing is coerced into a valid-looking
 * answer. Any other error passes through to the shared error handler unchanged.
 */
export function answerContractViolations(handlers: HandlerMap): HandlerMap {
  const wrapped: Record<string, AnyHandler> = {};
  for (const [operationId, handler] of Object.entries(handlers as Record<string, AnyHandler>)) {
    wrapped[operationId] = async (request, reply) => {
      try {
        return await handler(request, reply);
      } catch (error) {
        if (!(error instanceof ContractViolation)) throw error;
        request.log.error({ operationId, contract: error.contract, issues: error.issues }, 'a stored row breaks its contract');
        throw new HttpProblem(
          500,
          'stored-data-invalid',
          `Data stored for this resource does not match its declared contract (${error.contract}). This is a bug in Alder; it is logged with this request_id.`,
        );
      }
    };
  }
  return wrapped as HandlerMap;
}
