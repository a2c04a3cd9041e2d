// Collaborative documents (a station of `kind: "doc"`): yjs updates checked on produce, merged
// into a snapshot by compaction, read back as one state, and pushed live to doc sockets.
// The Station object and the log enter this feature here.
export { compactionDueAt, DocCompactor, isDocStation } from "./compaction";
export { readSnapshotMeta } from "./snapshot";
export { DocSockets } from "./sockets";
export { type DocStateValue, readDocState } from "./state";
export { checkDocBatch, docDelayProblem, docUpdateProblem } from "./updates";
