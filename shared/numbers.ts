// Integer schemas with bounds: every number on the wire is a safe integer in a stated range.
import * as v from "valibot";

export function intInRange(min: number, max: number) {
  return v.pipe(v.number(), v.safeInteger(), v.minValue(min), v.maxValue(max));
}

/** An offset or seq: 1, 2, 3… */
export const positiveInt = intInRange(1, Number.MAX_SAFE_INTEGER);
export const nonNegativeInt = intInRange(0, Number.MAX_SAFE_INTEGER);
