// What a caller may do: the actions a token grants on the stations its patterns name.

export const Action = {
  Produce: "produce",
  Consume: "consume",
  Manage: "manage",
} as const;
export type Action = (typeof Action)[keyof typeof Action];

export const ACTIONS: readonly Action[] = Object.values(Action);
