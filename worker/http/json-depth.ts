// Refuses JSON nested deeper than MAX_JSON_DEPTH right after parsing: JSON.parse copes with any
// depth, but later recursive walks (JSON.stringify, structured clone over RPC, schema checks)
// would overflow the stack and answer 500. Iterative, so the check itself cannot overflow.
import { ErrorCode } from "../../shared/errors";
import { MAX_JSON_DEPTH } from "../../shared/limits";
import { ApiError } from "./api-error";

export function assertJsonDepth(value: unknown, maxDepth: number = MAX_JSON_DEPTH): void {
  if (typeof value !== "object" || value === null) return;
  const stack: Array<[object, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [container, depth] = stack.pop()!;
    if (depth > maxDepth) {
      throw new ApiError(ErrorCode.InvalidJson, `The JSON body is nested deeper than ${maxDepth} levels`, { maxDepth });
    }
    const children = Array.isArray(container) ? container : Object.values(container);
    for (const child of children) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
}
