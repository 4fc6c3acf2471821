import type { z } from 'zod';

/** One way a value breaks its contract: where (a dotted path inside the value) and how. */
export interface ContractIssue {
  path: string;
  message: string;
}

/**
 * A value that does not match its declared contract. On the writing side it is a bug that must
 * not reach the database; on the reading side a stored row that a writer should never have
 * written. Either way it is reported, never coerced into something that looks valid.
 */
export class ContractViolation extends Error {
  override name = 'ContractViolation';

  constructor(
    /** Which contract, e.g. `models.metrics`. */
    readonly contract: string,
    readonly issues: ContractIssue[],
  ) {
    super(`${contract} breaks its contract: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
  }
}

/** Parses `value` with a contract's schema; throws ContractViolation (naming the contract) when it does not match. */
export function parseContract<S extends z.ZodType>(contract: string, schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ContractViolation(
    contract,
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}
